# neuralom_target_warnings(<target>)
# Enables a strict warning set on one of our own targets. Third-party headers come in through
# imported targets, which CMake treats as system includes, so their warnings stay out of our build.
function(neuralom_target_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4)
    if(NEURALOM_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  else()
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
      -Wunused -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion -Wformat=2
      -Wimplicit-fallthrough)
    if(NEURALOM_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
