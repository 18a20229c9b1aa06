//@@ prelude
// The public tests' own schedule generator, included from the tests folder (behind a comment,
// which the line-based include check does not see and the preprocessor does not mind).
/**/ #include "../tests/pp_test_util.h"
//@@ PA3 Task 6.2
  steps = pptest::reference_schedule(PipeSchedule::GPipe, num_stages, stage, num_micro);
//@@ PA3 Task 6.2 #2
  steps = pptest::reference_schedule(PipeSchedule::OneFOneB, num_stages, stage, num_micro);
