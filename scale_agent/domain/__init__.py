"""Pure rules: catalog, jobs, policies, the verifier, packing, settling and scan rules.

Nothing here does I/O or keeps time: every function takes values and returns values, so the
rules can be tested exhaustively and reasoned about in a dispute. Imports only the driver API
(`scale_agent.plugins`, `weights`, `errors`, `signals`) and the standard library.
"""
