"""Pure domain rules shared by workflows, activities and the API: no I/O, no clock."""
