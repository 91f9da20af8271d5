// Symbol mistakes.
.automaton "symbols"
.automaton "again"                  // error: second .automaton (the first is at symbols.s:2)
.equ A, B
.equ B, A                           // error@9: 'A' is defined in terms of itself
.equ LIMIT, 1
.equ LIMIT, 2                       // error@6: duplicate definition of 'LIMIT' (already defined as a constant at symbols.s:6:6)
.equ r3, 1                          // error@6: 'r3' is a register name and cannot name a symbol
.set STEP, LATER                    // error@12: 'LATER' is not defined above this line (.set and .if only see earlier definitions)
.equ LATER, 1
.alert FOUND, 0                     // error@8: alert value 0 cannot name an alert: 'int' of 0 ends the run
.alert HIT, 3
.alert ALSO_HIT, 3                  // error@8: alert value 3 is already named 'HIT'
.bogus 1                            // error@1: unknown directive '.bogus'
.equx A, 1                          // error: unknown directive '.equx'; did you mean '.equ'?
.equ NOVALUE                        // error: expected ',' after the name, found end of line
.entry nowhere                      // error: undefined symbol 'nowhere'
.top:
start:
start:                              // error@1: duplicate definition of 'start' (already defined as a label at symbols.s:19:1)
r5:                                 // error: 'r5' is a register name and cannot be a label
    jmpw $strat                     // error@11: undefined symbol 'strat'; did you mean 'start'?
    jmpw $.missing                  // error: undefined local label '.missing' (in the scope of 'start')
    loadw r1, $STEP2                // error: undefined symbol 'STEP2'
    loadw r1, $HIT                  // the alert name is a constant
.inner:
    intq r0
later:
    jmpw $.inner                    // error@11: undefined local label '.inner' (in the scope of 'later'); '.inner' is local to 'start' (write 'start.inner' to reach it from here)
    jmpw $start.inner               // a local label of another scope, in full
    jmpw $.top                      // error@11: undefined local label '.top' (in the scope of 'later'); '.top' is defined before the first label, and only lines above that label see it
.error "stop here"                  // error@1: stop here
.else                               // error: '.else' without '.if'
.endif                              // error: '.endif' without '.if'
.if UNKNOWN                         // error@5: 'UNKNOWN' is not defined above this line (.set and .if only see earlier definitions)
.endif
.if 1                               // error: '.if' has no matching '.endif' before the end of symbols.s
