# After break_main.gdb: the m-profile and m-system registers, and a write to primask.
info registers
set var $primask = 1
p $primask
monitor reg primask
set var $primask = 0
p/x $msp
