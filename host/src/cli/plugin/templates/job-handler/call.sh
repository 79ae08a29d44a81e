ava plugin call {{wasm}} --input '{"payload": {"note": "buy milk"}}'
