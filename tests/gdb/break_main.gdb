# Load, reset into the program and stop at main with a (hardware, flash) breakpoint.
load
monitor reset halt
break main
continue
