# Small helpers shared by every PA's CMakeLists.
include(GoogleTest)

# mlsys_student_source(<out-var> <path relative to the repo root>)
# The student file, or its reference twin under solutions/ when MLSYS_SOLUTIONS is ON.
# MLSYS_SOLUTION_FILES (a list of repo-relative paths) swaps only those files to solutions;
# the grader uses it to grade one task with the staff code for the others.
#
# MLSYS_PREBUILT_OBJECTS (a list of "<repo-relative path>=<object file>") links an object file
# instead of compiling that student file: the official grader compiles each submitted file in
# its sandbox, where solutions and hidden tests cannot be read (docs/GRADING.md §5).
function(mlsys_student_source out path)
  foreach(entry IN LISTS MLSYS_PREBUILT_OBJECTS)
    string(LENGTH "${path}=" prefix_length)
    string(SUBSTRING "${entry}" 0 ${prefix_length} prefix)
    if(prefix STREQUAL "${path}=")
      string(SUBSTRING "${entry}" ${prefix_length} -1 object)
      # With an empty C++ file beside it, so that a target made only of prebuilt objects still
      # has a source CMake can take its linker language from.
      string(MAKE_C_IDENTIFIER "${path}" stem)
      set(empty ${CMAKE_BINARY_DIR}/mlsys_prebuilt/${stem}.cpp)
      if(NOT EXISTS ${empty})
        file(WRITE ${empty} "// Empty: ${path} is linked from an object the grader compiled.\n")
      endif()
      set(${out} ${object} ${empty} PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(use_solution ${MLSYS_SOLUTIONS})
  if(DEFINED MLSYS_SOLUTION_FILES)
    if(path IN_LIST MLSYS_SOLUTION_FILES)
      set(use_solution ON)
    endif()
  endif()
  if(use_solution)
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/solutions/${path})
      message(FATAL_ERROR "mlsys: solution file solutions/${path} is missing. Solution builds "
                          "need the staff tree (the student release has no solutions/).")
    endif()
    set(${out} ${PROJECT_SOURCE_DIR}/solutions/${path} PARENT_SCOPE)
  else()
    set(${out} ${PROJECT_SOURCE_DIR}/${path} PARENT_SCOPE)
  endif()
endfunction()

# mlsys_add_test(<name> SOURCES ... [LIBS ...] LABELS ... [DEFINES ...] [TIMEOUT s] [PREFIX p])
# One GoogleTest executable whose test cases are registered with CTest under LABELS. PREFIX
# (e.g. "cuda.") keeps CTest names unique when one source is built twice.
function(mlsys_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT;PREFIX" "SOURCES;LIBS;LABELS;DEFINES" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE mlsys_testing ${T_LIBS})
  target_compile_definitions(${name} PRIVATE ${T_DEFINES})
  gtest_discover_tests(${name}
    TEST_PREFIX "${T_PREFIX}"
    TEST_LIST ${name}_TESTS
    PROPERTIES TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests flattens list-valued properties (LABELS "a;b" would become LABELS a
  # plus a bogus property b), so the labels are set by a script CTest includes right after the
  # discovered tests. Until the executable is built, CTest lists one placeholder test,
  # <name>_NOT_BUILT; it gets the labels too, so that `./mlsys test` can tell from the labels
  # which executables a selection needs before building them.
  set(label_script ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${label_script}
    "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\n"
    "else()\n  set_tests_properties(${name}_NOT_BUILT PROPERTIES LABELS \"${T_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_script})
endfunction()

# mlsys_add_notebook_test(<pa>)
#   Registers the CTest test <pa>_notebook: tools/run_notebook.py executes
#   handouts/notebooks/<pa>.ipynb against this build folder (MLSYS_NOTEBOOK_BUILD_DIR) with the
#   reference solutions (MLSYS_NOTEBOOK_SOLUTION=1). Labels "<pa>;notebook;slow". Warns at
#   configure time when the Python packages the notebooks need are missing.
function(mlsys_add_notebook_test pa)
  execute_process(COMMAND ${Python_EXECUTABLE} -c "import nbclient, nbformat, ipykernel, matplotlib"
                  RESULT_VARIABLE deps_missing OUTPUT_QUIET ERROR_QUIET)
  if(deps_missing)
    message(WARNING "mlsys: nbclient, nbformat, ipykernel or matplotlib is missing for "
                    "${Python_EXECUTABLE}; the test ${pa}_notebook will fail. Install them with:\n"
                    "    ${Python_EXECUTABLE} -m pip install nbclient nbformat ipykernel matplotlib")
  endif()
  add_test(NAME ${pa}_notebook
    COMMAND ${Python_EXECUTABLE} tools/run_notebook.py handouts/notebooks/${pa}.ipynb
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${pa}_notebook PROPERTIES
    ENVIRONMENT "MLSYS_NOTEBOOK_SOLUTION=1;MLSYS_NOTEBOOK_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1"
    LABELS "${pa};notebook;slow" TIMEOUT 1800)
endfunction()
