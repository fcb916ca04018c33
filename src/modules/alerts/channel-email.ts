import nodemailer, { type Transporter } from 'nodemailer'
import { z } from 'zod'
import type { SendResult } from './channel-http.ts'
import type { ChannelKind, MailConfig } from './channel-kinds.ts'
import type { AlertMessage } from './message.ts'
import { maskAddresses } from './mask.ts'

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export function emailBodies(message: AlertMessage) {
  const more = message.event_count - message.events.length
  const text = [
    message.headline,
    '',
    `Tenant: ${message.tenant.name}`,
    `Rule: ${message.rule.name}`,
    '',
    ...message.events.map((e) => `- ${e.planned ? '(planned) ' : ''}${e.summary}${e.link ? ` ${e.link}` : ''}`),
    ...(more > 0 ? [`…and ${more} more`] : []),
    '',
    `Open in TenantAtlas: ${message.link}`,
  ].join('\n')
  const items = message.events
    .map(
      (e) =>
        `<li>${e.planned ? '<em>(planned)</em> ' : ''}${escapeHtml(e.summary)}` +
        (e.link ? ` — <a href="${escapeHtml(e.link)}">diff</a>` : '') +
        '</li>',
    )
    .join('')
  const html =
    `<p><strong>${escapeHtml(message.headline)}</strong></p>` +
    `<p>Tenant: ${escapeHtml(message.tenant.name)}<br>Rule: ${escapeHtml(message.rule.name)}</p>` +
    `<ul>${items}</ul>${more > 0 ? `<p>…and ${more} more</p>` : ''}` +
    `<p><a href="${escapeHtml(message.link)}">Open in TenantAtlas</a></p>`
  return { text, html }
}

const transports = new Map<string, Transporter>()

/** One pooled SMTP transport per SMTP_URL (STARTTLS when the server offers it, auth from the URL). */
function transportFor(url: string) {
  let transport = transports.get(url)
  if (!transport) {
    transport = nodemailer.createTransport(url)
    transports.set(url, transport)
  }
  return transport
}

/** SMTP's answer: 4xx is worth another try, 5xx is final; no answer at all is retried. */
async function sendMail(mail: MailConfig, to: string[], message: AlertMessage, timeoutMs: number): Promise<SendResult> {
  const { text, html } = emailBodies(message)
  try {
    const info = await Promise.race([
      transportFor(mail.smtpUrl).sendMail({
        from: mail.from,
        to,
        subject: `[TenantAtlas] ${message.headline}`.slice(0, 200),
        text,
        html,
        // The same Message-ID on every attempt: a resend is recognisable as the same message.
        messageId: `<${message.id}@tenantatlas>`,
        headers: { 'X-TenantAtlas-Delivery': message.id },
      }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs).unref(),
      ),
    ])
    return { outcome: 'sent', response: String(info.response ?? 'accepted').slice(0, 300) }
  } catch (error) {
    const e = error as { name?: string; responseCode?: number; response?: string; code?: string }
    if (e.name === 'TimeoutError') return { outcome: 'retry', response: `no answer within ${timeoutMs} ms` }
    if (e.responseCode && e.responseCode >= 500 && e.responseCode < 600)
      return { outcome: 'fail', response: String(e.response ?? e.responseCode).slice(0, 300) }
    return { outcome: 'retry', response: String(e.response ?? e.code ?? 'SMTP error').slice(0, 300) }
  }
}

export const emailChannel: ChannelKind = {
  kind: 'email',
  fields: { to: z.array(z.email('must be e-mail addresses')).min(1).max(50) },
  target(body) {
    const to = body.to as string[]
    return { target: JSON.stringify(to), masked: maskAddresses(to) }
  },
  async send({ target, message, timeoutMs, mail }) {
    if (!mail) return { outcome: 'fail', response: 'SMTP_URL and MAIL_FROM are not configured on the server' }
    return sendMail(mail, JSON.parse(target) as string[], message, timeoutMs)
  },
}
