import { createHash, timingSafeEqual } from 'node:crypto';

/** Checks `Authorization: Bearer <key>` in constant time; no key configured means nobody is admin. */
export function isAdminRequest(authorization: string | undefined, adminKey: string | undefined): boolean {
  if (!adminKey || !authorization?.startsWith('Bearer ')) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(authorization.slice('Bearer '.length)), digest(adminKey));
}
