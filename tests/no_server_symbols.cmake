# Fails when PROGRAM (linked with mpshare::proxy only) holds any symbol of
# the server library or of Asio, which only the server uses.
find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -C ${PROGRAM} RESULT_VARIABLE rc OUTPUT_VARIABLE symbols
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm ${PROGRAM} failed (${rc}): ${err}")
endif()
if(NOT symbols MATCHES "mpshare::detail::ClientCore")
  message(FATAL_ERROR "${PROGRAM} has no client symbols: is it the right program?")
endif()
string(REGEX MATCHALL "[^\n]*(mpshare::server::|asio::)[^\n]*" found "${symbols}")
if(found)
  list(LENGTH found n)
  list(SUBLIST found 0 10 some)
  string(REPLACE ";" "\n" some "${some}")
  message(FATAL_ERROR "${PROGRAM} holds ${n} server symbols, e.g.:\n${some}")
endif()
message(STATUS "no server symbols in ${PROGRAM}")
