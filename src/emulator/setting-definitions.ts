import type { EmulatedTenant } from './emulated-tenant.ts'
import { forbidden, graphError, hasPermission, ok, type GraphResponse } from './graph-routes.ts'

/**
 * The settings catalog's setting definitions, as Graph serves them: one by id
 * (`deviceManagement/configurationSettings/{id}`) and beside each setting of a policy
 * (`configurationPolicies/{id}/settings?$expand=settingDefinitions`: every definition the
 * setting instance uses, its children's included). Every definition id the generator
 * (shapes.ts `makeChild('settings')`) uses has one; other ids are 404, as in Graph.
 */

const CONFIG = 'DeviceManagementConfiguration.Read.All'

/** Names a settings catalog admin would recognise, cycled by the setting's index. */
const NAMES = [
  'Allow archive scanning',
  'Allow behavior monitoring',
  'Allow cloud protection',
  'Allow email scanning',
  'Allow full scan removable drives scanning',
  'Allow intrusion prevention system',
  'Allow on access protection',
  'Allow realtime monitoring',
  'Allow scanning network files',
  'Allow script scanning',
  'Allow user UI access',
  'Check for signatures before running scan',
  'Disable catchup full scan',
  'Enable network protection',
  'Allow Telemetry',
  'Allow Camera',
  'Allow Cortana',
  'Block non admin user install',
]

const LIMIT_NAMES = [
  'Days to retain cleaned malware',
  'Avg CPU load factor',
  'Signature update interval',
  'Schedule quick scan time',
  'Max inactivity time device lock',
  'Min device password length',
]

const base = (id: string, displayName: string, description: string) => ({
  id,
  name: id.split('_').slice(-2).join(''),
  displayName,
  description,
  helpText: description,
  version: '1',
  baseUri: './Device/Vendor/MSFT/Policy',
  offsetUri: `/Config/${id}`,
  rootDefinitionId: id,
  categoryId: 'f3f8d1d5-24b7-4b3e-a3f6-0c6a8d5e2b10',
  settingUsage: 'configuration',
  uxBehavior: 'default',
  visibility: 'settingsCatalog,template',
  accessTypes: 'add,delete,get,replace',
  keywords: [],
  infoUrls: [],
  occurrence: { minDeviceOccurrence: 1, maxDeviceOccurrence: 1 },
  applicability: {
    '@odata.type': '#microsoft.graph.deviceManagementConfigurationWindowsSettingApplicability',
    description: null,
    platform: 'windows10',
    deviceMode: 'none',
    technologies: 'mdm',
    configurationServiceProviderVersion: '5.0',
    maximumSupportedVersion: null,
    minimumSupportedVersion: null,
    requiredAzureAdTrustType: 'none',
    requiresAzureAd: false,
    windowsSkus: [],
  },
  referredSettingInformationList: [],
})

/** The definition of a generated setting, or undefined for an id the generator never uses. */
export function settingDefinition(id: string): Record<string, unknown> | undefined {
  let m = /^device_vendor_msft_policy_config_setting_(\d{1,6})$/.exec(id)
  if (m) {
    const index = Number(m[1])
    const name = `${NAMES[index % NAMES.length]!}${index >= NAMES.length ? ` (${Math.floor(index / NAMES.length) + 1})` : ''}`
    const option = (n: number, displayName: string) => ({
      itemId: `${id}_${n}`,
      name: displayName.replace(/ /g, ''),
      displayName,
      description: null,
      helpText: null,
      dependentOn: [],
      dependedOnBy: [],
      optionValue: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
        settingValueTemplateReference: null,
        value: n,
      },
    })
    return {
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingDefinition',
      ...base(id, name, `${name}: whether the device allows it.`),
      defaultOptionId: `${id}_1`,
      options: [option(0, 'Not allowed'), option(1, 'Allowed')],
    }
  }
  m = /^device_vendor_msft_policy_config_value_(\d{1,6})$/.exec(id)
  if (m) {
    const index = Number(m[1])
    const name = `${LIMIT_NAMES[index % LIMIT_NAMES.length]!}${index >= LIMIT_NAMES.length ? ` (${Math.floor(index / LIMIT_NAMES.length) + 1})` : ''}`
    return {
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingDefinition',
      ...base(id, name, `${name}, a number from 0 to 1000.`),
      defaultValue: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
        settingValueTemplateReference: null,
        value: 0,
      },
      valueDefinition: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValueDefinition',
        maximumValue: 1000,
        minimumValue: 0,
      },
      dependentOn: [],
      dependedOnBy: [],
    }
  }
  if (id.startsWith('vendor_msft_firewall_mdmstore_dynamickeywords_addresses_')) {
    return {
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationSettingGroupCollectionDefinition',
      ...base(id, 'Dynamic keywords: addresses', 'A reusable set of firewall addresses.'),
      childIds: [],
      minimumCount: 0,
      maximumCount: 1000,
      dependentOn: [],
      dependedOnBy: [],
    }
  }
  return undefined
}

/** The definition ids a setting instance uses: its own and its children's. */
function definitionIdsOf(instance: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(instance)) for (const v of instance) definitionIdsOf(v, out)
  else if (instance !== null && typeof instance === 'object') {
    for (const [key, value] of Object.entries(instance)) {
      if (key === 'settingDefinitionId' && typeof value === 'string') out.add(value)
      else definitionIdsOf(value, out)
    }
  }
  return out
}

/** A policy's setting with `settingDefinitions` expanded, as `settings?$expand=settingDefinitions` answers. */
export function withSettingDefinitions(setting: Record<string, unknown>): Record<string, unknown> {
  const ids = [...definitionIdsOf(setting.settingInstance, new Set())]
  return { ...setting, settingDefinitions: ids.map(settingDefinition).filter((d) => d !== undefined) }
}

/** `deviceManagement/configurationSettings/{id}`: one definition. */
export function configurationSettingResource(
  tenant: EmulatedTenant,
  rest: readonly string[],
  context: string,
): GraphResponse {
  if (!hasPermission(tenant, CONFIG)) return forbidden(CONFIG, 'object')
  if (rest.length !== 3)
    return graphError(
      400,
      'BadRequest',
      'Read one setting definition by id: deviceManagement/configurationSettings/{id}',
      'object',
    )
  // A definition Intune retired in this tenant is no longer offered (existing policies keep theirs).
  const definition = tenant.retiredSettingDefinitions.has(rest[2]!) ? undefined : settingDefinition(rest[2]!)
  if (!definition) return graphError(404, 'ResourceNotFound', `No configurationSettings with id '${rest[2]}'`, 'object')
  return ok({ '@odata.context': `${context}deviceManagement/configurationSettings/$entity`, ...definition }, 'object')
}
