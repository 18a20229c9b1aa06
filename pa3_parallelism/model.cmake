# PA3 model fragment, included by pa3_parallelism/CMakeLists.txt: the GPT with explicit
# backward, AdamW, Tiny Shakespeare and the single-process reference trainer (library
# pa3_model, staff code), its tests and the example pa3_train_single.
#
# Every target is compiled with -ffp-contract=off: a*b+c is never fused into an FMA, so the same
# sequence of float operations gives the same bits in every build of every call site (data- and
# tensor-parallel results are compared with the single-process run bit for bit).
add_library(pa3_model
  src/model/layers.cpp
  src/model/gpt.cpp
  src/model/adamw.cpp
  src/model/data.cpp
  src/model/train.cpp)
target_include_directories(pa3_model PUBLIC include)
target_link_libraries(pa3_model PUBLIC mlsys)
target_compile_options(pa3_model PRIVATE -ffp-contract=off)
# Where the shipped data lives (override at run time with MLSYS_PA3_DATA_DIR).
target_compile_definitions(pa3_model PRIVATE PA3_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")

mlsys_add_test(pa3_model_tests
  SOURCES tests/test_gpt_layers.cpp tests/test_gpt_model.cpp tests/test_gpt_data.cpp
  LIBS pa3_model
  LABELS "pa3;model"
  TIMEOUT 120)
target_compile_options(pa3_model_tests PRIVATE -ffp-contract=off)

add_executable(pa3_train_single examples/train_single.cpp)
target_link_libraries(pa3_train_single PRIVATE pa3_model)
target_compile_options(pa3_train_single PRIVATE -ffp-contract=off)
