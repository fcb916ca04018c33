import { describe, expect, it } from 'vitest'
import { SHAPES } from '../../src/emulator/shapes.ts'
import { authorityFor, cloudEndpoints } from '../../src/graph/clouds.ts'
import {
  CATEGORIES,
  displayNameOf,
  findPolicyType,
  getPolicyType,
  GRAPH_PERMISSIONS,
  isSkipped,
  POLICY_TYPES,
  singletonItem,
  usedCategories,
} from '../../src/graph/policy-types.ts'
import { groupReadUrl, itemReads, listUrl } from '../../src/graph/read-plan.ts'
import { backoffMs, DEFAULT_RETRY, parseRetryAfter, retryDelayMs } from '../../src/graph/retry.ts'
import { TokenBucket } from '../../src/graph/throttle-budget.ts'

describe('policy type catalog', () => {
  it('has unique camelCase keys, known categories and permissions, and a generator shape for every listable type', () => {
    const keys = POLICY_TYPES.map((e) => e.key)
    expect(new Set(keys).size).toBe(keys.length)
    for (const e of POLICY_TYPES) {
      expect(e.key).toMatch(/^[a-z][A-Za-z]+$/)
      expect(CATEGORIES).toContain(e.category)
      expect(GRAPH_PERMISSIONS).toContain(e.permission)
      expect(e.path).not.toMatch(/^\/|\/$/)
      if (e.listable) expect(SHAPES[e.key], e.key).toBeDefined()
    }
    expect(Object.keys(SHAPES).every((k) => findPolicyType(k)?.listable)).toBe(true)
    expect(usedCategories()).toEqual(
      expect.arrayContaining([
        'Configuration',
        'Compliance',
        'Endpoint security',
        'Apps',
        'App protection',
        'Enrollment',
        'Updates',
        'Scripts',
        'Foundations',
        'Dependencies',
      ]),
    )
    expect(() => getPolicyType('nope')).toThrow(/Unknown policy type/)
  })

  it('covers the types the issue names, with their kinds', () => {
    const paths = new Set(POLICY_TYPES.map((e) => e.path.split('/').pop()))
    for (const p of [
      'deviceConfigurations',
      'configurationPolicies',
      'groupPolicyConfigurations',
      'intents',
      'deviceCompliancePolicies',
      'compliancePolicies',
      'deviceManagementScripts',
      'deviceHealthScripts',
      'deviceShellScripts',
      'deviceCustomAttributeShellScripts',
      'deviceComplianceScripts',
      'windowsAutopilotDeploymentProfiles',
      'deviceEnrollmentConfigurations',
      'windowsFeatureUpdateProfiles',
      'windowsQualityUpdateProfiles',
      'windowsDriverUpdateProfiles',
      'mobileApps',
      'managedAppPolicies',
      'targetedManagedAppConfigurations',
      'mobileAppConfigurations',
      'policySets',
      'roleScopeTags',
      'assignmentFilters',
      'notificationMessageTemplates',
      'termsAndConditions',
      'roleDefinitions',
      'deviceCategories',
      'reusablePolicySettings',
      'groups',
      // What IntuneCD's backup modules read beyond the list above (issue 17).
      'depOnboardingSettings',
      'vppTokens',
      'complianceManagementPartners',
      'deviceManagementPartners',
      'remoteAssistancePartners',
      'policies',
      // Its singletons.
      'applePushNotificationCertificate',
      'androidManagedStoreAccountEnterpriseSettings',
      'settings',
    ]) {
      expect(paths, p).toContain(p)
    }
    expect(getPolicyType('roleScopeTag').kind).toBe('foundation')
    expect(getPolicyType('group').kind).toBe('dependency')
    expect(getPolicyType('settingsCatalogPolicy').nameProperty).toBe('name')
    expect(getPolicyType('conditionalAccessPolicy')).toMatchObject({
      path: 'identity/conditionalAccess/policies',
      permission: 'Policy.Read.All',
      category: 'Conditional access',
      assignments: null,
    })
    expect(getPolicyType('depOnboardingSetting')).toMatchObject({
      kind: 'foundation',
      category: 'Enrollment',
      nameProperty: 'tokenName',
    })
  })

  it('plans reads by assignment strategy', () => {
    const settings = getPolicyType('settingsCatalogPolicy')
    expect(listUrl(settings, { top: 500 })).toBe(
      `/beta/deviceManagement/configurationPolicies?%24top=25&%24filter=templateReference%2FtemplateFamily+eq+%27none%27&%24expand=assignments`,
    )
    expect(itemReads(settings, { id: 'p1' })).toEqual([
      {
        name: 'settings',
        url: '/beta/deviceManagement/configurationPolicies/p1/settings?$top=1000&$expand=settingDefinitions',
        paged: true,
      },
    ])
    expect(itemReads(getPolicyType('windowsAutopilotDeploymentProfile'), { id: 'a' }).map((r) => r.url)).toEqual([
      '/beta/deviceManagement/windowsAutopilotDeploymentProfiles/a/assignments',
    ])
    expect(
      itemReads(getPolicyType('managedAppPolicy'), {
        id: 'm',
        '@odata.type': '#microsoft.graph.iosManagedAppProtection',
      }),
    ).toEqual([
      {
        name: 'object',
        url: '/beta/deviceAppManagement/iosManagedAppProtections/m?$expand=assignments,apps',
        paged: false,
      },
    ])
    expect(itemReads(getPolicyType('deviceConfiguration'), { id: 'd' })).toEqual([])
    expect(groupReadUrl('g')).toBe(
      '/v1.0/groups/g?$select=id,displayName,description,groupTypes,securityEnabled,mailEnabled,membershipRule',
    )
    expect(isSkipped(getPolicyType('roleScopeTag'), { id: '0', isBuiltIn: true })).toBe(true)
    expect(isSkipped(getPolicyType('roleScopeTag'), { id: '1', isBuiltIn: false })).toBe(false)
    // managedAppPolicies lists targeted app configurations too: their own type owns them.
    expect(
      isSkipped(getPolicyType('managedAppPolicy'), {
        id: 't',
        '@odata.type': '#microsoft.graph.targetedManagedAppConfiguration',
      }),
    ).toBe(true)
    expect(
      isSkipped(getPolicyType('managedAppPolicy'), {
        id: 'p',
        '@odata.type': '#microsoft.graph.iosManagedAppProtection',
      }),
    ).toBe(false)
    // Details Graph expands on the list cost no request of their own.
    expect(decodeURIComponent(listUrl(getPolicyType('deviceCompliancePolicy')))).toContain(
      '$expand=assignments,scheduledActionsForRule($expand=scheduledActionConfigurations)',
    )
    expect(itemReads(getPolicyType('deviceCompliancePolicy'), { id: 'd' })).toEqual([])
    expect(decodeURIComponent(listUrl(getPolicyType('notificationMessageTemplate')))).toContain(
      '$expand=localizedNotificationMessages',
    )
    // A singleton: one GET of its path, nothing per object; an empty answer is no object.
    const apns = getPolicyType('applePushNotificationCertificate')
    expect(listUrl(apns)).toBe('/beta/deviceManagement/applePushNotificationCertificate')
    expect(itemReads(apns, { id: 'applePushNotificationCertificate' })).toEqual([])
    expect(singletonItem(apns, { '@odata.context': 'x', id: 'graph-id', appleIdentifier: 'a@b.c' })).toEqual({
      id: 'applePushNotificationCertificate',
      appleIdentifier: 'a@b.c',
    })
    expect(singletonItem(apns, { '@odata.context': 'x', id: 'graph-id' })).toBeNull()
    expect(singletonItem(apns, null)).toBeNull()
    expect(
      displayNameOf(getPolicyType('deviceManagementSettings'), {
        id: 'deviceManagementSettings',
        secureByDefault: true,
      }),
    ).toBe('Tenant device management settings')
    expect(displayNameOf(apns, { id: 'x', appleIdentifier: 'mdm@contoso.com' })).toBe('mdm@contoso.com')
    expect(() => singletonItem(getPolicyType('vppToken'), {})).toThrow(/not a singleton/)
    expect(itemReads(getPolicyType('compliancePolicy'), { id: 'c' }).map((r) => r.url)).toEqual([
      '/beta/deviceManagement/compliancePolicies/c/settings?$top=1000&$expand=settingDefinitions',
      '/beta/deviceManagement/compliancePolicies/c/scheduledActionsForRule?$expand=scheduledActionConfigurations',
    ])
  })
})

describe('sovereign clouds', () => {
  it('maps each cloud to its login and Graph hosts', () => {
    expect(cloudEndpoints('global')).toEqual({
      loginUrl: 'https://login.microsoftonline.com',
      graphUrl: 'https://graph.microsoft.com',
      scope: 'https://graph.microsoft.com/.default',
    })
    expect(cloudEndpoints('usgov')).toMatchObject({
      loginUrl: 'https://login.microsoftonline.us',
      graphUrl: 'https://graph.microsoft.us',
      scope: 'https://graph.microsoft.us/.default',
    })
    expect(cloudEndpoints('usgovdod')).toMatchObject({
      loginUrl: 'https://login.microsoftonline.us',
      graphUrl: 'https://dod-graph.microsoft.us',
    })
    expect(cloudEndpoints('china')).toMatchObject({
      loginUrl: 'https://login.chinacloudapi.cn',
      graphUrl: 'https://microsoftgraph.chinacloudapi.cn',
    })
    expect(authorityFor('china', 'tid')).toBe('https://login.chinacloudapi.cn/tid')
  })

  it('sends the emulator cloud to the emulator URL behind an https login host', () => {
    const e = cloudEndpoints('emulator', 'http://127.0.0.1:4010/')
    expect(e.graphUrl).toBe('http://127.0.0.1:4010')
    expect(e.loginTransportUrl).toBe('http://127.0.0.1:4010')
    expect(e.loginUrl).toMatch(/^https:\/\//)
    expect(() => cloudEndpoints('emulator')).toThrow(/GRAPH_EMULATOR_URL/)
  })
})

describe('retry policy', () => {
  it('reads Retry-After as seconds or a date, and backs off exponentially with jitter when it is missing', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(backoffMs(DEFAULT_RETRY, 1, () => 0)).toBe(500)
    expect(backoffMs(DEFAULT_RETRY, 3, () => 1)).toBe(4000)
    expect(backoffMs(DEFAULT_RETRY, 20, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs)
    expect(retryDelayMs(DEFAULT_RETRY, 1, 7000)).toBe(7000)
    expect(retryDelayMs(DEFAULT_RETRY, 1, 10_000_000)).toBe(DEFAULT_RETRY.maxRetryAfterMs)
  })

  it('token bucket admits no more than the limit in a window', async () => {
    const bucket = new TokenBucket(40, 400)
    const started = performance.now()
    const times: number[] = []
    await Promise.all(
      Array.from({ length: 60 }, async () => {
        await bucket.take(1)
        times.push(performance.now() - started)
      }),
    )
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 400).length).toBeLessThanOrEqual(40)
    expect(Math.max(...times)).toBeGreaterThan(400)
  })
})
