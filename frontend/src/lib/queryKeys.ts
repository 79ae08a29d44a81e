/**
 * The query keys of every feature, in one place: a live update of one feature (a photo
 * becoming ready) patches another's cache (the chat message that sent it) by key, never
 * by guess. Everything a user sees sits under `['user', userId]`, so signing out or in
 * as someone else can never show the previous user's data.
 */
const user = (userId: string) => ['user', userId] as const

export const authKeys = {
  me: (userId: string) => [...user(userId), 'me'] as const,
}

export const chatKeys = {
  all: (userId: string) => [...user(userId), 'messages'] as const,
  messages: (userId: string, personaId: string | null) =>
    [...chatKeys.all(userId), personaId ?? 'active'] as const,
}

export const billingKeys = {
  status: (userId: string) => [...user(userId), 'billing', 'status'] as const,
}

export const photoKeys = {
  all: (userId: string) => [...user(userId), 'photos'] as const,
  list: (userId: string) => [...photoKeys.all(userId), 'list'] as const,
  one: (userId: string, photoId: string) => [...photoKeys.all(userId), 'one', photoId] as const,
  image: (userId: string, url: string) => [...photoKeys.all(userId), 'image', url] as const,
}

export const personaKeys = {
  all: (userId: string) => [...user(userId), 'personas'] as const,
  list: (userId: string) => [...personaKeys.all(userId), 'list'] as const,
  one: (userId: string, id: string) => [...personaKeys.all(userId), 'one', id] as const,
}

export const preferenceKeys = {
  current: (userId: string) => [...user(userId), 'preferences'] as const,
}

export const adminKeys = {
  plugins: ['admin', 'plugins'] as const,
  deadJobs: ['admin', 'jobs', 'dead'] as const,
}
