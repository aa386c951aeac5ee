"""`dynapcnn-dsl lsp`: the language server, the pipeline of `validate` in the editor.

The package is split so that everything but `server.py` is plain Python over the pipeline's
values and can be tested without an editor:

- `text.py`: lines and the span of the token at a position (diagnostics carry a start only);
- `index.py`: the names a file defines and uses (cores, references, template instances), taken
  from the loaded document before expansion rewrites it;
- `analysis.py`: one check of one text (the pipeline of `validate`, then the weight checks when
  weights are known), with the caches that make a re-check cheap;
- `schema_help.py`: the schema's descriptions, keys and enum values at a path;
- `context.py`: where the cursor is, for completion, from the text alone (it may not load);
- `features.py`: hover, definition, references, rename, completion and quick fixes;
- `server.py`: the Language Server Protocol over stdio (pygls), the only module that imports
  pygls; `dynapcnn_dsl.cli.lsp_cmd` imports it only when the command runs.
"""
