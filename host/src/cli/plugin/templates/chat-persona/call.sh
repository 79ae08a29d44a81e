ava plugin call {{wasm}} \
  --input '{"message": "hello", "persona": {"name": "Mira"}}' \
  --method stream-reply --set sign_off="See you soon."
