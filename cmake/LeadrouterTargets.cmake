# Helpers that give every project target the same warnings and naming.

# Warnings are errors on project code only; generated and vendor code is left alone.
# Warnings are errors where the project builds itself (the presets, scripts/, CI), behind
# LEADROUTER_WERROR; a plain `cmake -DCMAKE_BUILD_TYPE=Release` (a packager's build) keeps them
# warnings, so a newer compiler's new warning never breaks someone else's build.
function(leadrouter_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(LEADROUTER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# leadrouter_library(<name> SOURCES ... DEPS ...)
# Defines target leadrouter_<name> with alias leadrouter::<name>; public headers live in
# libs/<name>/include/leadrouter/<name>/.
function(leadrouter_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(leadrouter_${name} ${ARG_SOURCES})
  add_library(leadrouter::${name} ALIAS leadrouter_${name})
  target_include_directories(leadrouter_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(leadrouter_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  leadrouter_warnings(leadrouter_${name})
endfunction()
