# neuralom_precompile_aten(<target> [REUSE_FROM <other>])
#
# Most of a clean build is spent parsing LibTorch's <ATen/ATen.h> (~4,400 headers), once per source
# file that includes it. This precompiles it once for <target> (or reuses <other>'s precompiled
# header, which needs the same compile flags and definitions), and applies it only to the sources
# that include <ATen/ATen.h> themselves: for the others, loading the ~270 MB header costs more
# than it saves, and a header they do not include must not leak into them. Which sources include
# it is read at configure time; after adding or removing that include, re-run CMake (a stale choice
# only costs build time).
function(neuralom_precompile_aten target)
  cmake_parse_arguments(ARG "" "REUSE_FROM" "" ${ARGN})
  if(ARG_REUSE_FROM)
    target_precompile_headers(${target} REUSE_FROM ${ARG_REUSE_FROM})
  else()
    target_precompile_headers(${target} PRIVATE <ATen/ATen.h>)
  endif()
  get_target_property(_sources ${target} SOURCES)
  get_target_property(_dir ${target} SOURCE_DIR)
  foreach(_source IN LISTS _sources)
    if(NOT _source MATCHES "\\.cpp$")
      continue()
    endif()
    if(IS_ABSOLUTE "${_source}")
      set(_path "${_source}")
    else()
      set(_path "${_dir}/${_source}")
    endif()
    file(STRINGS "${_path}" _includes_aten REGEX "^#include <ATen/ATen\\.h>")
    if(NOT _includes_aten)
      set_source_files_properties("${_source}" PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
endfunction()
