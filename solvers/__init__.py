"""Pure mathematics with explicit precision: no I/O, no store, no global state.

Nothing here imports the rest of the project.
"""
