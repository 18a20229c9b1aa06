// Trains an MLP on the 8x8 handwritten digits with PA1's graph, autodiff and optimizers.
//
//   pa1_train_mlp [--widths 64,128,10] [--epochs 20] [--batch 32] [--lr 0.003]
//                 [--optimizer adam|adamw|sgd] [--momentum 0.9] [--weight-decay 0]
//                 [--activation relu|tanh|sigmoid|gelu] [--dropout 0] [--seed 0]
//
// Prints one line per epoch (loss, train and test accuracy, time). Needs every PA1 task; with
// the starter code it stops at the first NotImplemented and says which task that is.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "mlsys/io.h"
#include "pa1/pa1.h"

namespace {

struct Args {
  std::vector<int64_t> widths{64, 128, 10};
  int epochs = 20;
  int64_t batch = 32;
  float lr = 3e-3f, momentum = 0.9f, weight_decay = 0.f, dropout = 0.f;
  std::string optimizer = "adam", activation = "relu";
  uint64_t seed = 0;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "pa1_train_mlp: " << problem << "\n"
            << "usage: pa1_train_mlp [--widths 64,128,10] [--epochs N] [--batch B] [--lr LR]\n"
            << "         [--optimizer adam|adamw|sgd] [--momentum M] [--weight-decay WD]\n"
            << "         [--activation relu|tanh|sigmoid|gelu] [--dropout P] [--seed S]\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") usage("train an MLP on the digits");
    if (i + 1 >= argc) usage("missing value after " + flag);
    const std::string v = argv[++i];
    if (flag == "--widths") {
      a.widths.clear();
      std::stringstream ss(v);
      for (std::string w; std::getline(ss, w, ',');) a.widths.push_back(std::stoll(w));
    } else if (flag == "--epochs") a.epochs = std::stoi(v);
    else if (flag == "--batch") a.batch = std::stoll(v);
    else if (flag == "--lr") a.lr = std::stof(v);
    else if (flag == "--momentum") a.momentum = std::stof(v);
    else if (flag == "--weight-decay") a.weight_decay = std::stof(v);
    else if (flag == "--dropout") a.dropout = std::stof(v);
    else if (flag == "--optimizer") a.optimizer = v;
    else if (flag == "--activation") a.activation = v;
    else if (flag == "--seed") a.seed = std::stoull(v);
    else usage("unknown flag " + flag);
  }
  return a;
}

pa1::Activation activation(const std::string& name) {
  if (name == "relu") return pa1::Activation::Relu;
  if (name == "tanh") return pa1::Activation::Tanh;
  if (name == "sigmoid") return pa1::Activation::Sigmoid;
  if (name == "gelu") return pa1::Activation::Gelu;
  usage("unknown activation " + name);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  try {
    auto [train, test] = mlsys::train_test_split(mlsys::load_digits(), 0.2, args.seed);
    pa1::Model model = pa1::build_mlp(args.widths, args.seed, activation(args.activation), args.dropout);
    std::shared_ptr<pa1::Optimizer> opt;
    if (args.optimizer == "adam")
      opt = std::make_shared<pa1::Adam>(model.params, args.lr, 0.9f, 0.999f, 1e-8f, args.weight_decay);
    else if (args.optimizer == "adamw")
      opt = std::make_shared<pa1::AdamW>(model.params, args.lr, 0.9f, 0.999f, 1e-8f, args.weight_decay);
    else if (args.optimizer == "sgd")
      opt = std::make_shared<pa1::SGD>(model.params, args.lr, args.momentum, args.weight_decay);
    else
      usage("unknown optimizer " + args.optimizer);
    std::cout << "digits: " << train.images.shape()[0] << " train, " << test.images.shape()[0]
              << " test; MLP " << mlsys::to_string(args.widths) << " " << args.activation << ", "
              << args.optimizer << " lr " << args.lr << ", batch " << args.batch << "\n";
    pa1::Trainer trainer(model, opt);
    pa1::FitOptions fit_options;
    fit_options.epochs = args.epochs;
    fit_options.batch_size = args.batch;
    fit_options.seed = args.seed;
    pa1::fit(trainer, train, test, fit_options);
  } catch (const mlsys::NotImplemented& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const mlsys::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
