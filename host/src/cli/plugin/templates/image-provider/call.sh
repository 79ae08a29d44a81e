ava plugin call {{wasm}} \
  --input '{"prompt": "a lighthouse at dusk", "seed": 7}' \
  --set base_url=https://picsum.photos \
  --allow-host picsum.photos --allow-host fastly.picsum.photos --out image.jpg
