// Helpers of the PA3 Task 8 tests (public and hidden): published model shapes, a relative
// comparison of doubles that records what it compares, and an error check.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "mlsys/error.h"
#include "mlsys/recording.h"
#include "pa3/cost_model.h"

namespace costtest {

// Published configurations (each paper's table and the model's released config.json).
// Llama 2 7B (Touvron et al. 2023): V 32000, d 4096, 32 layers, 32 heads (no GQA), SwiGLU
// f 11008, context 4096, untied LM head.
inline pa3::TransformerShape llama2_7b() {
  return pa3::llama_shape(32000, 4096, 32, 32, 32, 11008, 4096, false);
}
// Llama 3 8B (Meta 2024): V 128256, d 4096, 32 layers, 32 query heads and 8 key/value heads,
// SwiGLU f 14336, context 8192, untied LM head.
inline pa3::TransformerShape llama3_8b() {
  return pa3::llama_shape(128256, 4096, 32, 32, 8, 14336, 8192, false);
}
// GPT-2 small (Radford et al. 2019): V 50257, d 768, 12 layers, 12 heads, f 3072, context 1024,
// tied LM head.
inline pa3::TransformerShape gpt2_small() {
  return pa3::gpt_shape(50257, 768, 12, 12, 3072, 1024, true);
}

// Doubles computed by a formula in another order than the test writes it: equal up to a few
// rounding errors of double arithmetic, hence rtol 1e-12 (the values have 16 significant digits;
// a wrong formula is off by far more). Records the value with that tolerance.
inline void expect_rel(const std::string& label, double got, double want, double rtol = 1e-12) {
  mlsys::test::record_value(label, got, rtol, 0.0);
  EXPECT_LE(std::fabs(got - want), rtol * std::fabs(want))
      << label << ": got " << got << ", expected " << want << " (relative tolerance " << rtol
      << ")";
}

// A value that must be exactly 0 (nothing sent); recorded exactly.
inline void expect_zero(const std::string& label, double got) {
  mlsys::test::record_value(label, got, 0.0, 0.0);
  EXPECT_EQ(got, 0.0) << label;
}

// fn must throw mlsys::Error (not NotImplemented) whose message contains every part.
inline ::testing::AssertionResult throws_error_with(const std::function<void()>& fn,
                                                   const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const mlsys::NotImplemented&) {
    throw;
  } catch (const mlsys::Error& e) {
    mlsys::test::record_exact("error", std::string("mlsys::Error"));
    const std::string msg = e.what();
    for (const std::string& p : parts)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message does not mention '" << p << "':\n  "
                                             << msg;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no mlsys::Error was thrown";
}

}  // namespace costtest
