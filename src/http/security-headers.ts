import type { FastifyReply } from 'fastify'

/**
 * The console is a built single page (web/dist) and the docs are Swagger UI: neither runs inline
 * script, so scripts come from our own origin only. Mantine writes its CSS variables in <style>
 * elements, hence inline styles. Nothing may frame us (clickjacking), MIME types are not sniffed,
 * and no URL (which may carry tenant ids) leaks to other sites in Referer.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
}

export const setSecurityHeaders = (reply: FastifyReply) => reply.headers(SECURITY_HEADERS)
