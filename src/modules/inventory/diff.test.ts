import { describe, expect, it } from 'vitest'
import { diffContents, humanise, type DiffNames } from './diff.ts'

const names: DiffNames = {
  settingDefinitions: new Map([
    [
      'def_scan',
      {
        displayName: 'Allow archive scanning',
        options: new Map([
          ['def_scan_1', 'Allowed'],
          ['def_scan_0', 'Not allowed'],
        ]),
      },
    ],
  ]),
  groups: new Map([['6f1c2b9e-2d7a-4d8e-9a4b-1c2d3e4f5a6b', 'Berlin devices']]),
  filters: new Map(),
  scopeTags: new Map([['7', 'Berlin office']]),
}

const choice = (value: string) => ({
  id: '0',
  settingInstance: {
    '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
    settingDefinitionId: 'def_scan',
    choiceSettingValue: { value, children: [] },
  },
})

describe('readable diffs', () => {
  it('names a choice setting and its values by the definition', () => {
    const changes = diffContents(
      { payload: { settings: [choice('def_scan_1')] }, assignments: [] },
      { payload: { settings: [choice('def_scan_0')] }, assignments: [] },
      names,
    )
    expect(changes).toEqual([
      {
        path: 'settings/def_scan',
        label: 'Allow archive scanning',
        kind: 'changed',
        before: 'Allowed',
        after: 'Not allowed',
      },
    ])
  })

  it('labels template-based (intent) settings by definition with their JSON value, and policy sets’ roleScopeTags', () => {
    const intent = (valueJson: string) => ({
      '@odata.type': '#microsoft.graph.deviceManagementBooleanSettingInstance',
      id: 's1',
      definitionId: 'def_scan',
      valueJson,
      value: JSON.parse(valueJson) as unknown,
    })
    const changes = diffContents(
      { payload: { settings: [intent('true')], roleScopeTags: ['0'] }, assignments: [] },
      { payload: { settings: [intent('false')], roleScopeTags: ['0', '7'] }, assignments: [] },
      names,
    )
    expect(
      changes.map((c) => `${c.kind} ${c.path} ${c.label}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`),
    ).toEqual([
      'added roleScopeTagIds/7 Scope tag: Berlin office: null → "assigned"',
      'changed settings/def_scan Allow archive scanning: true → false',
    ])
  })

  it('never reports a masked secret, a reorder, an id in another case or the empty GUID as a change', () => {
    const group = (id: string) => ({
      target: {
        '@odata.type': '#microsoft.graph.groupAssignmentTarget',
        groupId: id,
        deviceAndAppManagementAssignmentFilterId: '00000000-0000-0000-0000-000000000000',
      },
    })
    const from = {
      payload: {
        password: 'hunter2',
        wifi: { preSharedKey: '****' },
        ids: ['b', 'a'],
        ref: 'ABCDEF01-2345-6789-ABCD-EF0123456789',
        none: null,
      },
      assignments: [group('6F1C2B9E-2D7A-4D8E-9A4B-1C2D3E4F5A6B')],
    }
    const to = {
      payload: {
        password: '****',
        wifi: { preSharedKey: 'secret' },
        ids: ['a', 'b'],
        ref: 'abcdef01-2345-6789-abcd-ef0123456789',
        none: '00000000-0000-0000-0000-000000000000',
      },
      assignments: [
        {
          target: {
            ...group('6f1c2b9e-2d7a-4d8e-9a4b-1c2d3e4f5a6b').target,
            deviceAndAppManagementAssignmentFilterId: null,
          },
        },
      ],
    }
    expect(diffContents(from, to, names)).toEqual([])
  })

  it('labels assignments by group name, scope tags by name, administrative templates by definition and presentation', () => {
    const dv = (enabled: boolean, text: string) => ({
      id: 'x',
      enabled,
      definition: { id: 'd1', displayName: 'Turn off Autoplay' },
      presentationValues: [
        {
          '@odata.type': '#microsoft.graph.groupPolicyPresentationValueText',
          id: 'pv',
          value: text,
          presentation: { id: 'p1', label: 'Turn off Autoplay on:' },
        },
      ],
    })
    const changes = diffContents(
      { payload: { definitionValues: [dv(true, 'CD-ROM')], roleScopeTagIds: ['0'] }, assignments: [] },
      {
        payload: { definitionValues: [dv(false, 'All drives')], roleScopeTagIds: ['0', '7'] },
        assignments: [
          {
            target: {
              '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget',
              groupId: '6f1c2b9e-2d7a-4d8e-9a4b-1c2d3e4f5a6b',
            },
          },
        ],
      },
      names,
    )
    expect(
      changes.map((c) => `${c.kind} ${c.label}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`),
    ).toEqual([
      'added Assignment: Exclude group Berlin devices: null → "excluded"',
      'changed Turn off Autoplay: "Enabled" → "Disabled"',
      'changed Turn off Autoplay: Turn off Autoplay on:: "CD-ROM" → "All drives"',
      'added Scope tag: Berlin office: null → "assigned"',
    ])
  })

  it('humanises property names', () => {
    expect(humanise('passwordMinimumLength')).toBe('Password minimum length')
    expect(humanise('displayName')).toBe('Display name')
  })

  it("hides Graph's server-managed fields: a new version counter or timestamp is no change", () => {
    const changes = diffContents(
      {
        payload: {
          displayName: 'A',
          version: 3,
          lastModifiedDateTime: '2030-01-01T00:00:00Z',
          passwordMinimumLength: 8,
        },
        assignments: [],
      },
      {
        payload: {
          displayName: 'A',
          version: 4,
          lastModifiedDateTime: '2030-02-01T00:00:00Z',
          passwordMinimumLength: 10,
        },
        assignments: [],
      },
      names,
    )
    expect(changes.map((c) => c.label)).toEqual(['Password minimum length'])
  })
})
