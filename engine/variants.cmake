# SPDX-License-Identifier: MIT
# Reads the variant registry (engine/variants.txt) into
#   RF_VARIANTS                      every registered name, in file order
#   RF_VARIANT_<ident>_ENGINE        model | tree
#   RF_VARIANT_<ident>_TREE          tree variants: the packaged base tree
#   RF_VARIANT_<ident>_PATCHES       tree variants: absolute patch paths
#   RF_VARIANT_<ident>_KNOWN         the expected findings (a ;-list, or none)
#   RF_VARIANT_<ident>_ABOUT         the one-line description
# <ident> is rf_variant_ident(NAME): every '-', '.' and '+' made '_'.
# and the bug benchmark's registry (patches/bugs/bugs.txt) into
#   RF_BUGS                          every bug variant's name, in file order
#   RF_VARIANT_<ident>_BUG           1 for a bug variant
#   RF_VARIANT_<ident>_BUG_BASE      the registry variant it is injected into
#   RF_VARIANT_<ident>_BUG_CLASS     its class (the benchmark's plot)
# with ENGINE, TREE, PATCHES (the base's, then the bug's), KNOWN (the
# expected finding) and ABOUT (what it breaks) as for a registry variant.
# Bug variants are not in RF_VARIANTS. RF_BUG_VARIANTS says whether this
# build compiles them.

# rf_read_table(FILE HEADER OUT): the records of a '|'-separated table
# of six fields (FILE: the registry or the bug list; HEADER names the fields
# for the error), '#' comments and blank lines skipped, each record as
# "LINENO|f0|...|f5" with the fields stripped (';' made ',', so a record is
# one list element). A record of another width is a FATAL_ERROR naming the
# line.
function(rf_read_table file header out)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(STRINGS ${file} lines)
  set(rows "")
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    if(line MATCHES "^[ \t]*(#|$)")
      continue()
    endif()
    string(REPLACE ";" "," line "${line}")
    string(REPLACE "|" ";" fields "${line}")
    list(LENGTH fields n)
    if(NOT n EQUAL 6)
      message(FATAL_ERROR "${file}:${lineno}: ${n} fields, want 6 (${header})")
    endif()
    list(TRANSFORM fields STRIP)
    list(JOIN fields "|" row)
    list(APPEND rows "${lineno}|${row}")
  endforeach()
  set(${out} "${rows}" PARENT_SCOPE)
endfunction()

function(rf_variant_ident name out)
  string(REGEX REPLACE "[-.+]" "_" ident "${name}")
  set(${out} ${ident} PARENT_SCOPE)
endfunction()

set(RF_VARIANT_REGISTRY ${CMAKE_CURRENT_LIST_DIR}/variants.txt)
rf_read_table(${RF_VARIANT_REGISTRY} "name | engine | tree | patches | known | about" _rf_rows)
set(RF_VARIANTS "")
foreach(_rf_row IN LISTS _rf_rows)
  string(REPLACE "|" ";" _rf_fields "${_rf_row}")
  list(GET _rf_fields 0 _rf_lineno)
  list(GET _rf_fields 1 _rf_name)
  list(GET _rf_fields 2 _rf_engine)
  list(GET _rf_fields 3 _rf_tree)
  list(GET _rf_fields 4 _rf_patches)
  list(GET _rf_fields 5 _rf_known)
  list(GET _rf_fields 6 _rf_about)
  if(NOT _rf_name MATCHES "^[a-z0-9][a-z0-9.+-]*$")
    message(FATAL_ERROR "${RF_VARIANT_REGISTRY}:${_rf_lineno}: bad variant name '${_rf_name}'")
  endif()
  if(_rf_name IN_LIST RF_VARIANTS OR _rf_name STREQUAL "tree" OR _rf_name STREQUAL "tree-base")
    message(FATAL_ERROR "${RF_VARIANT_REGISTRY}:${_rf_lineno}: variant '${_rf_name}' is named twice "
      "(or takes a user tree's name)")
  endif()
  if(NOT _rf_engine MATCHES "^(model|tree)$")
    message(FATAL_ERROR "${RF_VARIANT_REGISTRY}:${_rf_lineno}: engine '${_rf_engine}' is not model or tree")
  endif()
  if(_rf_engine STREQUAL "tree" AND NOT _rf_tree MATCHES "^linux-[0-9]+\\.[0-9]+$")
    message(FATAL_ERROR "${RF_VARIANT_REGISTRY}:${_rf_lineno}: tree '${_rf_tree}' is not a packaged tree (linux-X.Y)")
  endif()
  rf_variant_ident(${_rf_name} _rf_ident)
  set(_rf_plist "")
  if(NOT _rf_patches STREQUAL "-")
    string(REPLACE "," ";" _rf_plist "${_rf_patches}")
    list(TRANSFORM _rf_plist STRIP)
    list(TRANSFORM _rf_plist PREPEND ${PROJECT_SOURCE_DIR}/)
    foreach(_rf_p IN LISTS _rf_plist)
      if(NOT EXISTS ${_rf_p})
        message(FATAL_ERROR "${RF_VARIANT_REGISTRY}:${_rf_lineno}: patch ${_rf_p} does not exist")
      endif()
    endforeach()
  endif()
  string(REPLACE "," ";" _rf_known "${_rf_known}")
  list(TRANSFORM _rf_known STRIP)
  list(APPEND RF_VARIANTS ${_rf_name})
  set(RF_VARIANT_${_rf_ident}_ENGINE ${_rf_engine})
  set(RF_VARIANT_${_rf_ident}_TREE ${_rf_tree})
  set(RF_VARIANT_${_rf_ident}_PATCHES ${_rf_plist})
  set(RF_VARIANT_${_rf_ident}_KNOWN ${_rf_known})
  set(RF_VARIANT_${_rf_ident}_ABOUT "${_rf_about}")
endforeach()

# The bug benchmark's variants: built where they are used (the asan fuzz
# targets and canary tests, the afl targets, the release CLI's replay), not
# in the tsan, coverage or OSS-Fuzz builds.
if(RF_SANITIZER MATCHES "^(address|none)$" AND NOT RF_FUZZER STREQUAL "external")
  set(_rf_bugs_default ON)
else()
  set(_rf_bugs_default OFF)
endif()
option(RF_BUG_VARIANTS "compile the bug benchmark's variants (patches/bugs/bugs.txt)" ${_rf_bugs_default})
set(RF_BUG_REGISTRY ${PROJECT_SOURCE_DIR}/patches/bugs/bugs.txt)
set(RF_BUGS "")
if(EXISTS ${RF_BUG_REGISTRY})
  rf_read_table(${RF_BUG_REGISTRY} "name | base | patch | expected | class | breaks" _rf_rows)
  foreach(_rf_row IN LISTS _rf_rows)
    string(REPLACE "|" ";" _rf_fields "${_rf_row}")
    list(GET _rf_fields 0 _rf_lineno)
    list(GET _rf_fields 1 _rf_name)
    list(GET _rf_fields 2 _rf_base)
    list(GET _rf_fields 3 _rf_patch)
    list(GET _rf_fields 4 _rf_expected)
    list(GET _rf_fields 5 _rf_class)
    list(GET _rf_fields 6 _rf_about)
    if(NOT _rf_name MATCHES "^bug-[a-z0-9][a-z0-9.+-]*$")
      message(FATAL_ERROR "${RF_BUG_REGISTRY}:${_rf_lineno}: bad bug name '${_rf_name}' (bug-...)")
    endif()
    if(_rf_name IN_LIST RF_VARIANTS OR _rf_name IN_LIST RF_BUGS)
      message(FATAL_ERROR "${RF_BUG_REGISTRY}:${_rf_lineno}: '${_rf_name}' is named twice")
    endif()
    rf_variant_ident(${_rf_base} _rf_bident)
    if(NOT _rf_base IN_LIST RF_VARIANTS OR NOT RF_VARIANT_${_rf_bident}_ENGINE STREQUAL "tree")
      message(FATAL_ERROR "${RF_BUG_REGISTRY}:${_rf_lineno}: base '${_rf_base}' is not a tree variant "
        "of engine/variants.txt")
    endif()
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/${_rf_patch})
      message(FATAL_ERROR "${RF_BUG_REGISTRY}:${_rf_lineno}: patch ${_rf_patch} does not exist")
    endif()
    if(NOT _rf_expected MATCHES "^[a-z][a-z:-]*$")
      message(FATAL_ERROR "${RF_BUG_REGISTRY}:${_rf_lineno}: expected finding '${_rf_expected}' is not one name")
    endif()
    rf_variant_ident(${_rf_name} _rf_ident)
    list(APPEND RF_BUGS ${_rf_name})
    set(RF_VARIANT_${_rf_ident}_ENGINE tree)
    set(RF_VARIANT_${_rf_ident}_TREE ${RF_VARIANT_${_rf_bident}_TREE})
    set(RF_VARIANT_${_rf_ident}_PATCHES ${RF_VARIANT_${_rf_bident}_PATCHES} ${PROJECT_SOURCE_DIR}/${_rf_patch})
    set(RF_VARIANT_${_rf_ident}_KNOWN ${_rf_expected})
    set(RF_VARIANT_${_rf_ident}_ABOUT "${_rf_about}")
    set(RF_VARIANT_${_rf_ident}_BUG 1)
    set(RF_VARIANT_${_rf_ident}_BUG_BASE ${_rf_base})
    set(RF_VARIANT_${_rf_ident}_BUG_CLASS ${_rf_class})
  endforeach()
endif()
