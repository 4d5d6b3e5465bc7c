# After break_main.gdb: a DWT write watchpoint on the blinky loop counter, hit twice.
watch counter
continue
continue
delete
