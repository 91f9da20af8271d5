// Include problems: a missing file, and a cycle through two files.
.include "missing.inc"              // error@10: cannot find included file 'missing.inc' (looked in the directory of include-cycle.s)
.include "cycle-a.inc"
.include 42                         // error: expected a quoted string after .include, found a number
