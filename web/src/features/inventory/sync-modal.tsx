import { Button, Checkbox, Group, Modal, MultiSelect, Radio, Stack, Text } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { policyTypesQuery, useStartInventorySync } from '../../components/inventory-sync.tsx'
import { DEFAULT_SELECTION } from '../../lib/runs.ts'
import type { PolicyType, Selection } from '../../lib/types.ts'

/** The body to send: an empty body is the full inventory (both flags on), read in full. */
export function selectionBody(scope: 'full' | 'custom', selection: Selection): Partial<Selection> {
  const mode = selection.mode === 'quick' ? { mode: 'quick' as const } : {}
  if (scope === 'full' && selection.include_foundations && selection.include_dependencies) return mode
  return {
    policy_types: scope === 'custom' ? selection.policy_types : [],
    categories: scope === 'custom' ? selection.categories : [],
    include_foundations: selection.include_foundations,
    include_dependencies: selection.include_dependencies,
    ...mode,
  }
}

export function SyncModal({ tenantId, opened, onClose }: { tenantId: string; opened: boolean; onClose: () => void }) {
  const catalog = useQuery({ ...policyTypesQuery(tenantId), enabled: opened })
  const [scope, setScope] = useState<'full' | 'custom'>('full')
  const [selection, setSelection] = useState<Selection>(DEFAULT_SELECTION)
  const start = useStartInventorySync(tenantId, () => onClose())
  const policies = (catalog.data?.data ?? []).filter((t: PolicyType) => t.kind === 'policy')
  const customEmpty = scope === 'custom' && selection.policy_types.length === 0 && selection.categories.length === 0

  return (
    <Modal opened={opened} onClose={onClose} title="Run inventory sync" size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault()
          start.mutate(selectionBody(scope, selection))
        }}
      >
        <Stack gap="md">
          <Radio.Group label="What to sync" value={scope} onChange={(v) => setScope(v)}>
            <Stack gap={6} mt={6}>
              <Radio value="full" label="Full inventory: every supported policy type" />
              <Radio value="custom" label="Only some policy types or categories" />
            </Stack>
          </Radio.Group>
          <Checkbox
            label="Quick sync: re-read only what changed since the last sync (Intune's audit log and modification times)"
            checked={selection.mode === 'quick'}
            onChange={(e) => {
              const quick = e.currentTarget.checked
              setSelection((s) => ({ ...s, mode: quick ? 'quick' : 'full' }))
            }}
          />
          {scope === 'custom' && (
            <>
              <MultiSelect
                label="Policy types"
                placeholder={catalog.isPending ? 'Loading…' : 'Any type'}
                data={policies.map((t) => ({ value: t.key, label: t.label }))}
                value={selection.policy_types}
                onChange={(policy_types) => setSelection((s) => ({ ...s, policy_types }))}
                searchable
                clearable
                maxDropdownHeight={260}
                comboboxProps={{ withinPortal: true }}
              />
              <MultiSelect
                label="Categories"
                placeholder="Any category"
                data={catalog.data?.categories ?? []}
                value={selection.categories}
                onChange={(categories) => setSelection((s) => ({ ...s, categories }))}
                searchable
                clearable
              />
              {customEmpty && (
                <Text size="sm" c="dimmed">
                  Choose at least one type or category, or sync the full inventory.
                </Text>
              )}
            </>
          )}
          <Checkbox
            label="Include foundations (scope tags, assignment filters, notification templates…)"
            checked={selection.include_foundations}
            onChange={(e) => {
              const include_foundations = e.currentTarget.checked
              setSelection((s) => ({ ...s, include_foundations }))
            }}
          />
          <Checkbox
            label="Include dependencies (groups that assignments reference)"
            checked={selection.include_dependencies}
            onChange={(e) => {
              const include_dependencies = e.currentTarget.checked
              setSelection((s) => ({ ...s, include_dependencies }))
            }}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Close
            </Button>
            {/* Not disabled while a request is out: the server deduplicates, and says so. */}
            <Button type="submit" disabled={customEmpty}>
              Start sync
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
