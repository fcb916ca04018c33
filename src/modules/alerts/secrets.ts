import type { AlertChannelRow } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'

/** A channel's target and secret are encrypted with APP_KEY, bound to the channel's id (a copied ciphertext does not open). */
const boundTo = (channelId: string) => `alert-channel:${channelId}`

export function sealChannel(secrets: SecretBox, channelId: string, target: string, secret: string | undefined) {
  return {
    targetEncrypted: secrets.encrypt(target, boundTo(channelId)),
    secretEncrypted: secret === undefined ? null : secrets.encrypt(secret, `${boundTo(channelId)}:secret`),
  }
}

export function openChannel(secrets: SecretBox, channel: AlertChannelRow) {
  return {
    target: secrets.decrypt(channel.targetEncrypted, boundTo(channel.id)),
    secret: channel.secretEncrypted ? secrets.decrypt(channel.secretEncrypted, `${boundTo(channel.id)}:secret`) : null,
  }
}
