import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core'
import { useState, type ReactNode } from 'react'

/**
 * The one confirmation of a write (ADR 026): what will happen, in words and numbers; for a
 * destructive or cross-tenant write, the user types a name (`typed`) before the button enables.
 * The confirm button carries `data-testid="confirm-write"` on every such dialog.
 */
export function ConfirmWrite({
  opened,
  title,
  children,
  typed,
  typedLabel,
  confirmLabel,
  color,
  pending,
  onClose,
  onConfirm,
  testId,
}: {
  opened: boolean
  title: string
  children: ReactNode
  /** The text to type to confirm (a name); none: one click confirms */
  typed?: string
  typedLabel?: string
  confirmLabel: string
  color?: string
  pending?: boolean
  onClose: () => void
  onConfirm: () => void
  testId?: string
}) {
  const [value, setValue] = useState('')
  const ready = typed === undefined || value.trim() === typed.trim()
  const close = () => {
    setValue('')
    onClose()
  }
  return (
    <Modal opened={opened} onClose={close} title={title} data-testid={testId}>
      <Stack gap="sm">
        {typeof children === 'string' ? <Text data-testid="confirm-sentence">{children}</Text> : children}
        {typed !== undefined && (
          <TextInput
            label={typedLabel ?? `Type ${typed} to confirm`}
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            data-testid="confirm-typed"
            autoFocus
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button data-testid="confirm-write" color={color} disabled={!ready} loading={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}
