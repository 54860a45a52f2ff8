# Writes build_info.h with the git revision of the source tree (or "unknown" outside a checkout).
# It is regenerated at every configure; scripts/setup.sh configures on each run.
find_package(Git QUIET)
set(NEURALOM_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" describe --always --dirty --abbrev=12
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE _neuralom_rev
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET
    RESULT_VARIABLE _neuralom_rev_rc)
  if(_neuralom_rev_rc EQUAL 0 AND _neuralom_rev)
    set(NEURALOM_GIT_REVISION "${_neuralom_rev}")
  endif()
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/build_info.h.in"
               "${PROJECT_BINARY_DIR}/generated/neuralom/build_info.h" @ONLY)
