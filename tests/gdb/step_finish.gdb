# After break_main.gdb: source-level next, step into delay(), finish out of it.
next
tbreak toggle_led
continue
finish
step
bt
finish
