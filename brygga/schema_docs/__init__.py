"""The schema reference pages vendors read: `brygga docs` (`make docs`) writes one static HTML page per published
schema, with every field, the valid examples and the invalid ones with the errors they produce. The site is built by
`brygga.schema_docs.render.build_docs`; this package imports nothing, so the command line stays quick to start."""
