import { declaredOnly } from './graph-schema.ts'
import type { Rng } from './random.ts'

/**
 * What each catalog type's objects look like: the documented Graph property names, plus how
 * many of them a tenant has. Paths, permissions, paging and quirks come from the catalog;
 * only the bodies are described here (a test fails when a catalog key has no shape).
 */

export type GraphObject = Record<string, unknown> & { id: string }

export type ShapeInput = {
  r: Rng
  index: number
  id: string
  name: string
  description: string
  created: string
  modified: string
  scopeTagIds: string[]
  builtIn: boolean
}

export type Shape = {
  /** Share of the tenant's objects. */
  weight: number
  /** How many of n objects are built-in (the first ones). */
  builtIns?: (n: number) => number
  /** Name prefixes, so display names read like a real tenant's. */
  topics: readonly string[]
  make(input: ShapeInput): Record<string, unknown>
  /** Ids are small integers (scope tags). */
  integerIds?: boolean
}

const b64 = (text: string) => Buffer.from(text).toString('base64')
const common = (i: ShapeInput) => ({
  description: i.description,
  createdDateTime: i.created,
  lastModifiedDateTime: i.modified,
  roleScopeTagIds: i.scopeTagIds,
})
const unscoped = (i: ShapeInput) => ({
  description: i.description,
  createdDateTime: i.created,
  lastModifiedDateTime: i.modified,
})
const scopeTagsNamedTags = (i: ShapeInput) => ({ ...unscoped(i), roleScopeTags: i.scopeTagIds })

/** Each enrollment configuration type's deviceEnrollmentConfigurationType, as Graph reports it. */
export const ENROLLMENT_TYPES: Record<string, string> = {
  '#microsoft.graph.windows10EnrollmentCompletionPageConfiguration': 'windows10EnrollmentCompletionPageConfiguration',
  '#microsoft.graph.deviceEnrollmentLimitConfiguration': 'limit',
  '#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration': 'singlePlatformRestriction',
}

const DEVICE_CONFIG_TYPES = [
  ['#microsoft.graph.windows10GeneralConfiguration', 'WIN'],
  ['#microsoft.graph.windows10EndpointProtectionConfiguration', 'WIN'],
  ['#microsoft.graph.windows10CustomConfiguration', 'WIN'],
  ['#microsoft.graph.macOSGeneralDeviceConfiguration', 'MAC'],
  ['#microsoft.graph.iosGeneralDeviceConfiguration', 'IOS'],
  ['#microsoft.graph.androidWorkProfileGeneralDeviceConfiguration', 'AND'],
] as const

const FAMILIES = [
  'endpointSecurityAntivirus',
  'endpointSecurityDiskEncryption',
  'endpointSecurityFirewall',
  'endpointSecurityEndpointDetectionAndResponse',
  'endpointSecurityAttackSurfaceReduction',
  'endpointSecurityAccountProtection',
] as const

const settingsPolicy = (family: () => string, platforms: readonly string[]) => (i: ShapeInput) => {
  const templateFamily = family()
  return {
    name: i.name,
    ...common(i),
    platforms: i.r.pick(platforms),
    technologies: 'mdm',
    settingCount: 1 + i.r.int(60),
    creationSource: null,
    isAssigned: i.r.chance(0.8),
    templateReference:
      templateFamily === 'none'
        ? { templateId: '', templateFamily: 'none', templateDisplayName: null, templateDisplayVersion: null }
        : {
            templateId: `${i.r.int(2 ** 31).toString(16)}-0000-4000-8000-000000000001_1`,
            templateFamily,
            templateDisplayName: templateFamily.replace('endpointSecurity', ''),
            templateDisplayVersion: 'Version 1',
          },
  }
}

const script = (i: ShapeInput, ext: string) => ({
  displayName: i.name,
  ...common(i),
  scriptContent: b64(`# ${i.name}\nWrite-Output "ok"\n`),
  runAsAccount: i.r.pick(['system', 'user']),
  fileName: `${i.name.replaceAll(/\W+/g, '-').toLowerCase()}.${ext}`,
})

function app(i: ShapeInput): Record<string, unknown> {
  const type = i.r.pick([
    '#microsoft.graph.win32LobApp',
    '#microsoft.graph.winGetApp',
    '#microsoft.graph.iosStoreApp',
    '#microsoft.graph.androidManagedStoreApp',
    '#microsoft.graph.macOSLobApp',
    '#microsoft.graph.officeSuiteApp',
  ])
  const body: Record<string, unknown> = {
    '@odata.type': type,
    displayName: i.name,
    ...common(i),
    publisher: i.r.pick(['Contoso', 'Adobe', 'Google', 'Zoom', '7-Zip']),
    isAssigned: i.r.chance(0.85),
    isFeatured: i.r.chance(0.1),
    privacyInformationUrl: null,
    informationUrl: null,
    developer: '',
    notes: '',
  }
  // win32LobApp has displayVersion, null when the admin left it empty (Graph returns it either way).
  if (type === '#microsoft.graph.win32LobApp')
    Object.assign(body, {
      displayVersion: i.r.chance(0.6) ? `${1 + i.r.int(30)}.${i.r.int(10)}` : null,
      fileName: `${i.name.replaceAll(/\W+/g, '-').toLowerCase()}.intunewin`,
      setupFilePath: 'setup.exe',
      installCommandLine: 'setup.exe /quiet',
    })
  return body
}

const partner = (i: ShapeInput) => ({ displayName: i.name, lastHeartbeatDateTime: i.modified })

/** What Graph answers for a secret it never returns: an encrypted OMA-URI value reads as this. */
export const MASKED_SECRET = '****'

/**
 * A custom profile's OMA-URI settings: one plain, one encrypted. Graph reads an encrypted
 * value as `****` with the reference of the stored secret (secretReferenceValueId), which a
 * create refuses and a PATCH of the same profile accepts (the secret is kept).
 */
const omaSettings = (profileId: string) => [
  {
    '@odata.type': '#microsoft.graph.omaSettingInteger',
    displayName: 'Allow Cortana',
    description: null,
    omaUri: './Device/Vendor/MSFT/Policy/Config/Experience/AllowCortana',
    value: 0,
    isReadOnly: false,
  },
  {
    '@odata.type': '#microsoft.graph.omaSettingString',
    displayName: 'Wi-Fi pre-shared key',
    description: null,
    omaUri: './Vendor/MSFT/WiFi/Profile/Corp/WlanXml',
    value: MASKED_SECRET,
    isEncrypted: true,
    secretReferenceValueId: `${profileId}_oma_1`,
  },
]

export const SHAPES: Record<string, Shape> = {
  deviceConfiguration: {
    weight: 16,
    topics: ['Baseline', 'Wi-Fi', 'VPN', 'Restrictions', 'BitLocker', 'Certificates', 'Kiosk', 'Edge', 'Email'],
    make: (i) => {
      const [type] = i.r.pick(DEVICE_CONFIG_TYPES)
      const passwordRequired = i.r.chance(0.5)
      // Each profile type has its own names (iOS: passcodeRequired; custom and Endpoint protection profiles: neither).
      const body = declaredOnly({
        '@odata.type': type,
        displayName: i.name,
        ...common(i),
        version: 1 + i.r.int(9),
        supportsScopeTags: true,
        passwordRequired,
        passcodeRequired: passwordRequired,
        cameraBlocked: i.r.chance(0.2),
      })
      return type === '#microsoft.graph.windows10CustomConfiguration'
        ? { ...body, omaSettings: omaSettings(i.id) }
        : body
    },
  },
  windowsUpdateRing: {
    weight: 2,
    topics: ['Update ring'],
    make: (i) => ({
      '@odata.type': '#microsoft.graph.windowsUpdateForBusinessConfiguration',
      displayName: i.name,
      ...common(i),
      version: 1,
      qualityUpdatesDeferralPeriodInDays: i.r.int(8),
      featureUpdatesDeferralPeriodInDays: i.r.pick([0, 30, 60, 90]),
      automaticUpdateMode: 'autoInstallAtMaintenanceTime',
      businessReadyUpdatesOnly: 'userDefined',
      deadlineForQualityUpdatesInDays: 2 + i.r.int(5),
    }),
  },
  settingsCatalogPolicy: {
    weight: 14,
    topics: ['Settings', 'Defender', 'OneDrive', 'Office', 'Privacy', 'Hardening'],
    make: settingsPolicy(() => 'none', ['windows10', 'windows10', 'macOS', 'iOS', 'android', 'linux']),
  },
  endpointSecurityPolicy: {
    weight: 5,
    topics: ['ES Antivirus', 'ES Firewall', 'ES EDR', 'ES ASR', 'ES Disk encryption'],
    make: (i) => settingsPolicy(() => i.r.pick(FAMILIES), ['windows10', 'windows10', 'macOS', 'linux'])(i),
  },
  endpointSecurityIntent: {
    weight: 2,
    topics: ['Security baseline', 'ES template'],
    make: (i) => ({
      displayName: i.name,
      description: i.description,
      isAssigned: i.r.chance(0.8),
      lastModifiedDateTime: i.modified,
      templateId: i.r.pick([
        '034ccd46-190c-4afc-adf1-ad7cc11262eb',
        'cef15778-c3b9-4d53-a00a-042929f0aad0',
        'a8d6fa0e-1e66-455b-bb51-8ce0dde1559e',
      ]),
      roleScopeTagIds: i.scopeTagIds,
    }),
  },
  groupPolicyConfiguration: {
    weight: 5,
    topics: ['ADMX', 'Chrome', 'Office ADMX', 'Edge ADMX'],
    make: (i) => ({ displayName: i.name, ...common(i), policyConfigurationIngestionType: 'builtIn' }),
  },
  deviceCompliancePolicy: {
    weight: 5,
    topics: ['Compliance'],
    make: (i) => {
      const type = i.r.pick([
        '#microsoft.graph.windows10CompliancePolicy',
        '#microsoft.graph.iosCompliancePolicy',
        '#microsoft.graph.macOSCompliancePolicy',
        '#microsoft.graph.androidWorkProfileCompliancePolicy',
      ])
      const body = { '@odata.type': type, displayName: i.name, ...common(i), version: 1 + i.r.int(5) }
      const passwordRequired = i.r.chance(0.7)
      const rest = {
        osMinimumVersion: i.r.pick([null, '10.0.19045', '17.0', '14.0']),
        storageRequireEncryption: i.r.chance(0.6),
      }
      // iOS says passcodeRequired and has no storageRequireEncryption.
      return declaredOnly({ ...body, passwordRequired, passcodeRequired: passwordRequired, ...rest })
    },
  },
  compliancePolicy: {
    weight: 1,
    topics: ['Linux compliance'],
    // deviceManagementCompliancePolicy has no templateReference.
    make: (i) => {
      const { templateReference: _t, ...body } = settingsPolicy(() => 'none', ['linux', 'windows10'])(i)
      return body
    },
  },
  deviceManagementScript: {
    weight: 3,
    topics: ['PS'],
    make: (i) => ({
      '@odata.type': '#microsoft.graph.deviceManagementScript',
      ...script(i, 'ps1'),
      enforceSignatureCheck: i.r.chance(0.2),
      runAs32Bit: false,
    }),
  },
  deviceHealthScript: {
    weight: 2,
    topics: ['Remediate'],
    builtIns: (n) => Math.floor(n * 0.25),
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      publisher: i.builtIn ? 'Microsoft' : 'IT',
      version: '1',
      runAsAccount: 'system',
      runAs32Bit: false,
      enforceSignatureCheck: false,
      isGlobalScript: i.builtIn,
      deviceHealthScriptType: 'deviceHealthScript',
      detectionScriptContent: b64(`# detect ${i.name}\nexit 0\n`),
      remediationScriptContent: b64(`# remediate ${i.name}\n`),
    }),
  },
  deviceShellScript: {
    weight: 1,
    topics: ['macOS script'],
    make: (i) => ({
      ...script(i, 'sh'),
      executionFrequency: 'PT0S',
      retryCount: i.r.int(3),
      blockExecutionNotifications: true,
    }),
  },
  deviceCustomAttributeShellScript: {
    weight: 1,
    topics: ['Attribute'],
    make: (i) => ({
      ...script(i, 'sh'),
      customAttributeName: `attr${i.index}`,
      customAttributeType: i.r.pick(['string', 'integer', 'dateTime']),
    }),
  },
  deviceComplianceScript: {
    weight: 1,
    topics: ['Custom compliance'],
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      publisher: 'IT',
      version: '1',
      runAsAccount: 'system',
      runAs32Bit: false,
      enforceSignatureCheck: false,
      detectionScriptContent: b64(`# ${i.name}\n@{ ok = $true } | ConvertTo-Json\n`),
    }),
  },
  windowsAutopilotDeploymentProfile: {
    weight: 1,
    topics: ['Autopilot'],
    make: (i) => ({
      '@odata.type': '#microsoft.graph.azureADWindowsAutopilotDeploymentProfile',
      displayName: i.name,
      ...common(i),
      language: 'os-default',
      deviceNameTemplate: 'CONTOSO-%RAND:5%',
      deviceType: 'windowsPc',
      enableWhiteGlove: i.r.chance(0.5),
      outOfBoxExperienceSettings: {
        hidePrivacySettings: true,
        hideEULA: true,
        userType: 'standard',
        deviceUsageType: 'singleUser',
        skipKeyboardSelectionPage: true,
        hideEscapeLink: true,
      },
    }),
  },
  deviceEnrollmentConfiguration: {
    weight: 2,
    topics: ['Enrollment'],
    make: (i) => {
      const type = i.r.pick([
        '#microsoft.graph.windows10EnrollmentCompletionPageConfiguration',
        '#microsoft.graph.deviceEnrollmentLimitConfiguration',
        '#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration',
      ])
      return {
        '@odata.type': type,
        displayName: i.name,
        ...common(i),
        priority: 1 + i.index,
        version: 1,
        deviceEnrollmentConfigurationType: ENROLLMENT_TYPES[type],
      }
    },
  },
  windowsFeatureUpdateProfile: {
    weight: 1,
    topics: ['Feature update'],
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      featureUpdateVersion: i.r.pick([
        'Windows 11, version 23H2',
        'Windows 11, version 24H2',
        'Windows 10, version 22H2',
      ]),
      installLatestWindows10OnWindows11IneligibleDevice: false,
      rolloutSettings: { offerStartDateTimeInUTC: null, offerEndDateTimeInUTC: null, offerIntervalInDays: null },
    }),
  },
  windowsQualityUpdateProfile: {
    weight: 1,
    topics: ['Expedite'],
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      expeditedUpdateSettings: { qualityUpdateRelease: '2025-06-10T00:00:00Z', daysUntilForcedReboot: i.r.int(3) },
    }),
  },
  windowsDriverUpdateProfile: {
    weight: 1,
    topics: ['Drivers'],
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      approvalType: i.r.pick(['manual', 'automatic']),
      deploymentDeferralInDays: i.r.int(30),
      newUpdates: i.r.int(5),
    }),
  },
  mobileApp: {
    weight: 20,
    topics: ['App'],
    builtIns: (n) => Math.floor(n * 0.1),
    make: (i) =>
      i.builtIn
        ? {
            '@odata.type': i.r.pick(['#microsoft.graph.managedIOSStoreApp', '#microsoft.graph.managedAndroidStoreApp']),
            displayName: i.r.pick(['Microsoft Outlook', 'Microsoft Teams', 'Microsoft Edge', 'Microsoft Word']),
            description: '',
            publisher: 'Microsoft Corporation',
            isAssigned: false,
            isFeatured: false,
            appAvailability: 'global',
            createdDateTime: i.created,
            lastModifiedDateTime: i.modified,
            roleScopeTagIds: [],
          }
        : app(i),
  },
  managedAppPolicy: {
    weight: 4,
    topics: ['APP'],
    // Windows app protection has no PIN settings.
    make: (i) =>
      declaredOnly({
        '@odata.type': i.r.pick([
          '#microsoft.graph.iosManagedAppProtection',
          '#microsoft.graph.androidManagedAppProtection',
          '#microsoft.graph.windowsManagedAppProtection',
        ]),
        displayName: i.name,
        ...common(i),
        version: '1',
        periodOfflineBeforeAccessCheck: 'PT12H',
        pinRequired: i.r.chance(0.8),
        minimumPinLength: 4 + i.r.int(3),
        isAssigned: i.r.chance(0.9),
        deployedAppCount: 1 + i.r.int(10),
      }),
  },
  targetedManagedAppConfiguration: {
    weight: 2,
    topics: ['App config'],
    make: (i) => ({
      '@odata.type': '#microsoft.graph.targetedManagedAppConfiguration',
      displayName: i.name,
      ...common(i),
      version: '1',
      isAssigned: true,
      deployedAppCount: 1 + i.r.int(5),
      customSettings: [{ name: 'com.microsoft.outlook.Mail.FocusedInbox', value: String(i.r.chance(0.5)) }],
    }),
  },
  mobileAppConfiguration: {
    weight: 3,
    topics: ['Managed device app config'],
    make: (i) => ({
      '@odata.type': i.r.pick([
        '#microsoft.graph.iosMobileAppConfiguration',
        '#microsoft.graph.androidManagedStoreAppConfiguration',
      ]),
      displayName: i.name,
      ...common(i),
      version: 1,
      targetedMobileApps: [],
    }),
  },
  policySet: {
    weight: 1,
    topics: ['Policy set'],
    // Policy sets name their scope tags roleScopeTags, not roleScopeTagIds.
    make: (i) => ({
      displayName: i.name,
      ...scopeTagsNamedTags(i),
      status: 'success',
      errorCode: 'noError',
      guidedDeploymentTags: [],
    }),
  },
  roleScopeTag: {
    weight: 1,
    topics: ['Region', 'Site', 'Team'],
    integerIds: true,
    builtIns: (n) => Math.min(1, n),
    make: (i) =>
      i.builtIn
        ? { displayName: 'Default', description: 'Built-in scope tag', isBuiltIn: true }
        : { displayName: i.name, description: i.description, isBuiltIn: false },
  },
  assignmentFilter: {
    weight: 2,
    topics: ['Filter'],
    make: (i) => ({
      displayName: i.name,
      ...scopeTagsNamedTags(i),
      platform: i.r.pick(['windows10AndLater', 'iOS', 'androidForWork', 'macOS']),
      rule: `(device.manufacturer -eq "${i.r.pick(['Microsoft', 'Dell', 'Lenovo', 'Apple'])}")`,
      assignmentFilterManagementType: 'devices',
    }),
  },
  notificationMessageTemplate: {
    weight: 1,
    topics: ['Notice'],
    make: (i) => ({
      displayName: i.name,
      description: i.description,
      lastModifiedDateTime: i.modified,
      defaultLocale: 'en-US',
      brandingOptions: 'includeCompanyLogo,includeCompanyName',
      roleScopeTagIds: i.scopeTagIds,
    }),
  },
  termsAndConditions: {
    weight: 0.5,
    topics: ['Terms'],
    make: (i) => ({
      displayName: i.name,
      ...common(i),
      modifiedDateTime: i.modified,
      title: 'Contoso terms of use',
      bodyText: 'Devices are monitored.',
      acceptanceStatement: 'I accept',
      version: 1 + i.r.int(4),
    }),
  },
  roleDefinition: {
    weight: 1,
    topics: ['Helpdesk', 'Operator', 'App manager'],
    builtIns: (n) => Math.ceil(n / 2),
    make: (i) => ({
      '@odata.type': '#microsoft.graph.deviceAndAppManagementRoleDefinition',
      displayName: i.builtIn
        ? i.r.pick(['Policy and Profile manager', 'Help Desk Operator', 'Read Only Operator', 'Application Manager'])
        : i.name,
      description: i.description,
      isBuiltIn: i.builtIn,
      isBuiltInRoleDefinition: i.builtIn,
      roleScopeTagIds: i.scopeTagIds,
      rolePermissions: [
        {
          resourceActions: [
            {
              allowedResourceActions: [
                'Microsoft.Intune_DeviceConfigurations_Read',
                'Microsoft.Intune_ManagedApps_Read',
              ],
              notAllowedResourceActions: [],
            },
          ],
        },
      ],
    }),
  },
  deviceCategory: {
    weight: 0.5,
    topics: ['Category'],
    make: (i) => ({ displayName: i.name, description: i.description, roleScopeTagIds: i.scopeTagIds }),
  },
  conditionalAccessPolicy: {
    weight: 1,
    topics: ['CA', 'Require MFA', 'Block legacy auth', 'Compliant device'],
    make: (i) => ({
      displayName: i.name,
      createdDateTime: i.created,
      modifiedDateTime: i.modified,
      state: i.r.pick(['enabled', 'disabled', 'enabledForReportingButNotEnforced']),
      sessionControls: null,
      conditions: {
        clientAppTypes: ['all'],
        applications: { includeApplications: ['All'], excludeApplications: [] },
        users: {
          includeUsers: [],
          excludeUsers: [],
          includeGroups: [],
          excludeGroups: [],
          includeRoles: [],
          excludeRoles: [],
        },
        platforms: null,
        locations: null,
      },
      grantControls: {
        operator: 'OR',
        builtInControls: [i.r.pick(['mfa', 'compliantDevice', 'block'])],
        customAuthenticationFactors: [],
        termsOfUse: [],
      },
    }),
  },
  depOnboardingSetting: {
    weight: 0.2,
    topics: ['ADE token'],
    make: (i) => ({
      tokenName: i.name,
      appleIdentifier: `mdm-${i.index}@contoso.com`,
      tokenExpirationDateTime: '2027-01-01T00:00:00Z',
      lastModifiedDateTime: i.modified,
      lastSuccessfulSyncDateTime: i.modified,
      lastSyncTriggeredDateTime: i.modified,
      shareTokenWithSchoolDataSyncService: false,
      lastSyncErrorCode: 0,
      tokenType: 'dep',
      dataSharingConsentGranted: true,
      roleScopeTagIds: i.scopeTagIds,
    }),
  },
  vppToken: {
    weight: 0.2,
    topics: ['VPP'],
    make: (i) => ({
      organizationName: 'Contoso',
      vppTokenAccountType: 'business',
      appleId: `vpp-${i.index}@contoso.com`,
      expirationDateTime: '2027-01-01T00:00:00Z',
      lastSyncDateTime: i.modified,
      token: null,
      lastModifiedDateTime: i.modified,
      state: 'valid',
      lastSyncStatus: 'completed',
      automaticallyUpdateApps: true,
      countryOrRegion: 'us',
      dataSharingConsentGranted: true,
      displayName: i.name,
      locationName: null,
      claimTokenManagementFromExternalMdm: false,
      roleScopeTagIds: i.scopeTagIds,
    }),
  },
  complianceManagementPartner: {
    weight: 0.1,
    topics: ['Compliance partner'],
    make: (i) => ({
      ...partner(i),
      macOsOnboarded: false,
      androidOnboarded: i.r.chance(0.5),
      iosOnboarded: i.r.chance(0.5),
      linuxOnboarded: false,
      partnerState: 'enabled',
      macOsEnrollmentAssignments: [],
      androidEnrollmentAssignments: [],
      iosEnrollmentAssignments: [],
      linuxEnrollmentAssignments: [],
    }),
  },
  deviceManagementPartner: {
    weight: 0.1,
    topics: ['MDM partner'],
    make: (i) => ({
      ...partner(i),
      partnerAppType: 'multiTenantApp',
      partnerState: 'enabled',
      isConfigured: true,
      whenPartnerDevicesWillBeRemovedDateTime: null,
      whenPartnerDevicesWillBeMarkedAsNonCompliantDateTime: null,
      groupsRequiringPartnerEnrollment: [],
    }),
  },
  remoteAssistancePartner: {
    weight: 0.1,
    topics: ['Remote help'],
    make: (i) => ({
      displayName: i.name,
      onboardingUrl: 'https://remote.example.com/onboard',
      onboardingStatus: 'onboarded',
      lastConnectionDateTime: i.modified,
    }),
  },
  // Singletons: one per tenant (weight unused), served at the catalog path with Graph's properties.
  applePushNotificationCertificate: {
    weight: 0,
    topics: ['APNs'],
    // https://learn.microsoft.com/graph/api/resources/intune-devices-applepushnotificationcertificate
    make: (i) => ({
      '@odata.type': '#microsoft.graph.applePushNotificationCertificate',
      appleIdentifier: `mdm-${i.r.int(1000)}@contoso.com`,
      topicIdentifier: `com.apple.mgmt.External.${i.id.length}${i.r.int(1_000_000)}`,
      lastModifiedDateTime: i.modified,
      expirationDateTime: '2027-01-01T00:00:00Z',
      certificateUploadStatus: null,
      certificateUploadFailureReason: null,
      certificateSerialNumber: i.r
        .int(2 ** 31)
        .toString(16)
        .toUpperCase(),
      certificate: null,
    }),
  },
  androidManagedStoreAccountEnterpriseSettings: {
    weight: 0,
    topics: ['Managed Google Play'],
    // https://learn.microsoft.com/graph/api/resources/intune-androidforwork-androidmanagedstoreaccountenterprisesettings
    make: (i) => ({
      '@odata.type': '#microsoft.graph.androidManagedStoreAccountEnterpriseSettings',
      bindStatus: 'bound',
      lastAppSyncDateTime: i.modified,
      lastAppSyncStatus: 'success',
      ownerUserPrincipalName: `android-admin-${i.r.int(100)}@contoso.com`,
      ownerOrganizationName: 'Contoso',
      lastModifiedDateTime: i.modified,
      enrollmentTarget: i.r.pick(['targetedAsEnrollmentRestrictions', 'all', 'none']),
      targetGroupIds: [],
      deviceOwnerManagementEnabled: true,
      androidDeviceOwnerFullyManagedEnrollmentEnabled: i.r.chance(0.5),
      managedGooglePlayInitialScopeTagIds: [],
      companyCodes: [],
    }),
  },
  deviceManagementSettings: {
    weight: 0,
    topics: ['Settings'],
    // A complex type, not an entity: no id, no modification time (https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-devicemanagementsettings).
    make: (i) => ({
      deviceComplianceCheckinThresholdDays: 1 + i.r.int(120),
      isScheduledActionEnabled: true,
      secureByDefault: i.r.chance(0.5),
      enhancedJailBreak: i.r.chance(0.3),
      deviceInactivityBeforeRetirementInDay: 0,
      derivedCredentialProvider: 'notConfigured',
      derivedCredentialUrl: null,
      androidDeviceAdministratorEnrollmentEnabled: false,
      ignoreDevicesForUnsupportedSettingsEnabled: false,
      enableLogCollection: true,
      enableAutopilotDiagnostics: true,
      enableEnhancedTroubleshootingExperience: false,
      enableDeviceGroupMembershipReport: false,
    }),
  },
  reusablePolicySetting: {
    weight: 0.5,
    topics: ['Reusable'],
    // Reusable settings have no scope tags.
    make: (i) => ({
      displayName: i.name,
      ...unscoped(i),
      settingDefinitionId: 'vendor_msft_firewall_mdmstore_dynamickeywords_addresses_{id}',
      version: 1,
      referencingConfigurationPolicyCount: i.r.int(4),
      settingInstance: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationGroupSettingCollectionInstance',
        settingDefinitionId: 'vendor_msft_firewall_mdmstore_dynamickeywords_addresses_{id}',
        groupSettingCollectionValue: [],
      },
    }),
  },
}

/**
 * A role assignment's id names its role definition, so `deviceManagement/roleAssignments/{id}`
 * finds it without an index: `{roleDefinitionId}_ra{n}`.
 */
export const roleAssignmentId = (roleDefinitionId: string, index: number) => `${roleDefinitionId}_ra${index}`
export function parseRoleAssignmentId(id: string): { roleDefinitionId: string; index: number } | undefined {
  const m = /^(.+)_ra(\d{1,3})$/.exec(id)
  return m ? { roleDefinitionId: m[1]!, index: Number(m[2]) } : undefined
}

/** Graph's notificationTemplateId of an action that sends no notification (the empty GUID, not ''). */
export const NO_TEMPLATE = '00000000-0000-0000-0000-000000000000'

/** The most settings a generated settings catalog policy has (see childCount). */
export const MAX_SETTINGS = 80
const GROUP_POLICY_DEFINITIONS = 5000
const SETTING_DEFINITION = /^device_vendor_msft_policy_config_(setting|value)_(\d{1,4})$/
/** The setting definitions reusable policy settings use. */
const REUSABLE_DEFINITIONS = new Set(['vendor_msft_firewall_mdmstore_dynamickeywords_addresses_{id}'])

/**
 * Whether a settings catalog setting definition exists: every id the generator uses in a
 * setting instance (the one place that knows them; the definitions Graph serves and the
 * write validation both ask it).
 */
export function settingDefinitionExists(id: string): boolean {
  const m = SETTING_DEFINITION.exec(id)
  return m ? Number(m[2]) < MAX_SETTINGS : REUSABLE_DEFINITIONS.has(id)
}

/** An Administrative templates definition by id (`def-{n}`), or undefined when there is none. */
export function groupPolicyDefinition(id: string): Record<string, unknown> | undefined {
  const m = /^def-(\d{1,4})$/.exec(id)
  if (!m || Number(m[1]) >= GROUP_POLICY_DEFINITIONS) return undefined
  const n = Number(m[1])
  return {
    id,
    displayName: `Administrative template setting ${n}`,
    classType: n % 2 === 0 ? 'machine' : 'user',
    categoryPath: '\\Windows Components',
  }
}

/** Children of a detail read, by the detail's name. */
export function makeChild(detail: string, parentId: string, index: number, r: Rng): Record<string, unknown> {
  switch (detail) {
    case 'settings':
      return r.chance(0.5)
        ? {
            id: String(index),
            settingInstance: {
              '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
              settingDefinitionId: `device_vendor_msft_policy_config_setting_${index}`,
              settingInstanceTemplateReference: null,
              choiceSettingValue: {
                value: `device_vendor_msft_policy_config_setting_${index}_${r.int(2)}`,
                children: [],
              },
            },
          }
        : {
            id: String(index),
            settingInstance: {
              '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
              settingDefinitionId: `device_vendor_msft_policy_config_value_${index}`,
              simpleSettingValue: {
                '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
                value: r.int(1000),
              },
            },
          }
    case 'intentSettings': {
      // Template-based intents keep Graph's older shape: definitionId and valueJson (the value as JSON), by value type.
      const definitionId = `deviceConfiguration--windows10EndpointProtectionConfiguration_setting${index}`
      const kind = r.int(3)
      const value = kind === 0 ? r.chance(0.5) : kind === 1 ? r.int(1000) : `value-${r.int(100)}`
      const type = kind === 0 ? 'Boolean' : kind === 1 ? 'Integer' : 'String'
      return {
        '@odata.type': `#microsoft.graph.deviceManagement${type}SettingInstance`,
        id: `${parentId.slice(0, 8)}-setting-${index}`,
        definitionId,
        valueJson: JSON.stringify(value),
        value,
      }
    }
    case 'definitionValues': {
      const enabled = r.chance(0.9)
      const definition = groupPolicyDefinition(`def-${r.int(GROUP_POLICY_DEFINITIONS)}`)!
      r.pick(['machine', 'user']) // keeps the generator's random sequence, and so every tenant, unchanged
      return {
        id: `${parentId.slice(0, 8)}-dv-${index}`,
        enabled,
        configurationType: 'policy',
        definition,
        presentationValues: r.chance(0.5)
          ? [
              {
                '@odata.type': '#microsoft.graph.groupPolicyPresentationValueText',
                id: `pv-${index}`,
                value: 'enabled',
              },
            ]
          : [],
      }
    }
    case 'scheduledActionsForRule':
      return {
        id: `${parentId}-rule`,
        ruleName: 'PasswordRequired',
        scheduledActionConfigurations: [
          {
            id: `${parentId}-block`,
            gracePeriodHours: r.pick([0, 24, 72]),
            actionType: 'block',
            notificationTemplateId: NO_TEMPLATE,
            notificationMessageCCList: [],
          },
        ],
      }
    case 'apps':
      return {
        id: `${parentId.slice(0, 8)}-app-${index}`,
        version: '1',
        mobileAppIdentifier: {
          '@odata.type': '#microsoft.graph.iosMobileAppIdentifier',
          bundleId: r.pick(['com.microsoft.office.outlook', 'com.microsoft.skype.teams', 'com.microsoft.msedge']),
        },
      }
    case 'items':
      return {
        '@odata.type': '#microsoft.graph.deviceConfigurationPolicySetItem',
        id: `${parentId.slice(0, 8)}-item-${index}`,
        payloadId: `${parentId.slice(0, 8)}-payload-${index}`,
        itemType: '#microsoft.graph.windows10GeneralConfiguration',
        displayName: `Policy set item ${index}`,
        status: 'success',
        errorCode: 'noError',
      }
    case 'localizedNotificationMessages':
      return {
        id: `${parentId}_${index === 0 ? 'en-us' : 'de-de'}`,
        locale: index === 0 ? 'en-us' : 'de-de',
        subject: 'Your device is not compliant',
        messageTemplate: 'Please update your device.',
        isDefault: index === 0,
      }
    case 'roleAssignments':
      return {
        '@odata.type': '#microsoft.graph.deviceAndAppManagementRoleAssignment',
        id: roleAssignmentId(parentId, index),
        displayName: `Assignment ${index}`,
        description: '',
        scopeMembers: [],
        resourceScopes: [],
        members: [],
      }
    case 'enrollmentProfiles':
      return {
        '@odata.type': '#microsoft.graph.depIOSEnrollmentProfile',
        id: `${parentId}_${index}`,
        displayName: `ADE profile ${index + 1}`,
        description: '',
        requiresUserAuthentication: true,
        configurationEndpointUrl: 'https://appleconfigurator2.manage.microsoft.com/MDMServiceConfig',
        enableAuthenticationViaCompanyPortal: true,
        isDefault: index === 0,
        supervisedModeEnabled: true,
        supportDepartment: 'IT',
        supportPhoneNumber: '+1 555 0100',
      }
    default:
      return { id: `${parentId}-${detail}-${index}` }
  }
}

/** How many children an object has under a detail: settings sometimes run past one 25-item page. */
export function childCount(detail: string, r: Rng): number {
  switch (detail) {
    case 'settings': {
      const roll = r.next()
      return roll < 0.7 ? 1 + r.int(25) : roll < 0.95 ? 26 + r.int(25) : 51 + r.int(30)
    }
    case 'definitionValues':
      return 1 + r.int(15)
    case 'scheduledActionsForRule':
      return 1
    case 'apps':
      return 1 + r.int(8)
    case 'items':
      return 1 + r.int(6)
    case 'localizedNotificationMessages':
      return 1 + r.int(2)
    case 'roleAssignments':
      return r.int(3)
    case 'enrollmentProfiles':
      return 1 + r.int(3)
    default:
      return 1
  }
}
