export {{env}}_API_KEY=sk_test_123 {{env}}_WEBHOOK_SECRET=whsec_123
ava plugin call {{wasm}} --method create-checkout \
  --input '{"user_id": "user-1", "email": "user@example.com"}' \
  --set api_base=https://api.example.com --allow-host api.example.com \
  --secret api_key={{env}}_API_KEY --secret webhook_secret={{env}}_WEBHOOK_SECRET
