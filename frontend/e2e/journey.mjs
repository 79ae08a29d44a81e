// The paid journey of one new user, in a real Chromium, against a real `ava serve`:
// sign up → send → 402 banner → Subscribe → dev checkout "Pay" → back in chat, processing →
// active → a streamed reply → ask for a photo → pending → the image appears without a
// reload → the photos page shows it → import a Character Card and chat with that persona →
// settings: intimate mode needs the 18+ confirmation → portal: cancel → 402 again.

import { check, steps } from './steps.mjs'

const PAYWALL = 'Subscription required to send messages.'

export const CARD = {
  spec: 'chara_card_v2',
  spec_version: '2.0',
  data: {
    name: 'Captain Mira',
    description: 'A starship captain with a dry wit and a soft spot for stray cats.',
    personality: 'calm, teasing, loyal',
    scenario: 'The bridge of the Kestrel, between two jumps.',
    first_mes: 'Welcome aboard the Kestrel. Coffee is on the left.',
    mes_example: '',
    creator_notes: 'Imported by the browser test.',
    system_prompt: '',
    post_history_instructions: '',
    alternate_greetings: [],
    tags: ['sci-fi'],
    creator: 'e2e',
    character_version: '1',
    extensions: {},
  },
}

function composer(page) {
  return page.getByRole('textbox', { name: /message/i })
}

async function send(page, text) {
  const box = composer(page)
  await box.fill(text)
  await box.press('Enter')
}

/** Sends what the composer holds and waits for the whole streamed reply: the stream's
 * `done` event arrived and the Stop control is gone. */
async function sendAndWaitForReply(page) {
  const before = await page.evaluate(() => window.__ava.chunks.length)
  await composer(page).press('Enter')
  await page.waitForFunction(
    (n) => window.__ava.chunks.slice(n).some((c) => c.events.includes('done')),
    before,
    { timeout: 20_000 },
  )
  await page.getByRole('button', { name: /^stop/i }).waitFor({ state: 'detached', timeout: 20_000 })
}

export async function paidJourney(page, { base, label, shots, email }) {
  const step = steps(page, shots)
  const password = 'correct horse battery staple'

  await step('signup', async () => {
    await page.goto(`${base}/signup`)
    await page.getByLabel(/^email/i).fill(email)
    await page
      .getByLabel(/^password/i)
      .first()
      .fill(password)
    await page.getByRole('button', { name: /sign up|create account/i }).click()
    await page.waitForURL(/\/chat/)
    await composer(page).waitFor()
  })

  await step('paywall', async () => {
    await send(page, 'Hello Ava, how are you today?')
    await page.getByText(PAYWALL).waitFor()
    check(
      (await composer(page).inputValue()) === 'Hello Ava, how are you today?',
      'the draft stays in the input after a 402',
    )
  })

  await step('subscribe-page', async () => {
    await page.getByRole('link', { name: 'Subscribe', exact: true }).click()
    await page.waitForURL(/\/subscribe/)
    await page.getByRole('heading', { name: 'Unlock Ava' }).waitFor()
  })

  await step('dev-checkout', async () => {
    await page.getByRole('button', { name: 'Subscribe now' }).click()
    await page.waitForURL(/\/dev\/checkout\//)
    await page.getByRole('button', { name: /^pay/i }).waitFor()
  })

  await step('processing', async () => {
    await page.getByRole('button', { name: /^pay/i }).click()
    await page.waitForURL(/\/chat\?checkout=success/)
    await page
      .getByText(/confirming your payment|you're subscribed/i)
      .first()
      .waitFor()
  })

  await step('active', async () => {
    await page
      .getByText(/you're subscribed/i)
      .first()
      .waitFor({ timeout: 30_000 })
  })

  await step('streamed-reply', async () => {
    // The draft survived the trip to the checkout and back.
    check(
      (await composer(page).inputValue()) === 'Hello Ava, how are you today?',
      'the draft survives the checkout round trip',
    )
    await sendAndWaitForReply(page)
    const deltas = await page.evaluate(() => window.__ava.deltas.length)
    check(deltas > 0, 'the reply arrived as streamed deltas')
    check(!(await page.getByText(PAYWALL).isVisible()), 'no paywall once subscribed')
  })

  await step('photos-allowed', async () => {
    await page
      .getByRole('link', { name: /settings/i })
      .first()
      .click()
    await page.waitForURL(/\/settings/)
    const toggle = page.getByRole('switch', { name: /photo/i })
    if ((await toggle.getAttribute('aria-checked')) !== 'true') await toggle.click()
    await page.waitForFunction(
      () => document.querySelector('[role="switch"][aria-checked="true"]') !== null,
    )
  })

  await step('photo-pending', async () => {
    await page.getByRole('link', { name: /chat/i }).first().click()
    await page.waitForURL(/\/chat/)
    await send(page, 'Send me a photo of you, please')
    await page
      .getByText(/taking a photo|being created/i)
      .first()
      .waitFor({ timeout: 20_000 })
  })

  let measured = { deltas: [], photos: [] }
  await step('photo-ready', async () => {
    await page.locator('[role="log"] img[src^="blob:"]').first().waitFor({ timeout: 60_000 })
    // The page has not reloaded since the first streamed reply (every move was in the SPA):
    // the instrumentation still holds the deltas and the photo event. Its frame watcher
    // marks the photo shown on the next frame.
    await page
      .waitForFunction(() => window.__ava.photos.every((p) => p.shown != null), null, {
        timeout: 5000,
      })
      .catch(() => {})
    measured = await page.evaluate(() => ({
      deltas: window.__ava.deltas,
      photos: window.__ava.photos,
      events: window.__ava.chunks.flatMap((c) => c.events),
    }))
  })

  await step('gallery', async () => {
    await page
      .getByRole('link', { name: /photos/i })
      .first()
      .click()
    await page.waitForURL(/\/gallery/)
    await page.locator('img[src^="blob:"]').first().waitFor({ timeout: 20_000 })
  })

  await step('import-card', async () => {
    await page
      .getByRole('link', { name: /personas/i })
      .first()
      .click()
    await page.waitForURL(/\/personas/)
    const input = page.locator('input[type="file"]').first()
    await input.setInputFiles({
      name: 'captain-mira.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(CARD)),
    })
    await page.getByText('Captain Mira').first().waitFor()
  })

  await step('chat-with-card', async () => {
    // "Chat with" makes the persona the active one and opens its conversation.
    const card = page.getByRole('article').filter({ hasText: 'Captain Mira' }).first()
    await card.getByRole('button', { name: /chat with/i }).click()
    await page.waitForURL(/\/chat/)
    await page.locator('main header').getByText('Captain Mira').first().waitFor()
    await composer(page).fill('Captain, where are we heading?')
    await sendAndWaitForReply(page)
  })

  await step('age-gate', async () => {
    await page
      .getByRole('link', { name: /settings/i })
      .first()
      .click()
    await page.waitForURL(/\/settings/)
    await page.getByRole('radio', { name: /intimate/i }).check()
    const dialog = page.getByRole('dialog')
    await dialog.getByText(/18/).first().waitFor()
    await dialog.getByRole('button', { name: /confirm/i }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.waitForFunction(() =>
      [...document.querySelectorAll('input[type="radio"]')].some(
        (r) => r.checked && /intimate/i.test(r.closest('label')?.textContent ?? r.value),
      ),
    )
  })

  await step('portal', async () => {
    await page.getByRole('button', { name: /manage subscription/i }).click()
    await page.waitForURL(/\/dev\/portal\//)
    await page.getByRole('button', { name: /cancel subscription/i }).click()
    await page
      .getByText(/canceled|ended/i)
      .first()
      .waitFor()
  })

  await step('paywall-again', async () => {
    await page.getByRole('link', { name: /back to ava/i }).click()
    await page.waitForURL((url) => !url.pathname.startsWith('/dev/'))
    await page.goto(`${base}/chat`)
    await send(page, 'Are you still there?')
    await page.getByText(PAYWALL).waitFor()
  })

  return { label, measured }
}
