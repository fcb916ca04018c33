import { Text, type TextProps } from '@mantine/core'

/**
 * A name that comes from outside (a Graph object, a tenant, a person) and may be any length:
 * one line, cut with an ellipsis at `maw`, the full text on hover. A 20,000-character name
 * must not push a table's other columns off the screen.
 */
export function LongName({
  children,
  maw = 420,
  ...rest
}: { children: string; maw?: number | string } & Omit<TextProps, 'truncate' | 'children'>) {
  return (
    <Text
      span
      inherit
      truncate="end"
      title={children}
      maw={maw}
      display="inline-block"
      style={{ verticalAlign: 'bottom' }}
      data-testid="long-name"
      {...rest}
    >
      {children}
    </Text>
  )
}

/** Where the whole name is shown (a drawer's or page's title): it wraps anywhere rather than overflow. */
export const wrapAnywhere = { overflowWrap: 'anywhere' } as const
