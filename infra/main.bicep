// Everything `azd up` deploys for the mock-interview app: one resource group with
//   - the Function App (app/api.bicep) on Flex Consumption (FC1, Linux, Python 3.11, 512 MB instances) or,
//     with hostingPlan 'Y1', on Linux Consumption (caveats in app/api.bicep),
//   - its user-assigned identity (app/identity.bicep) and roles (app/rbac.bicep),
//   - the storage account with shared-key access off, the deployment container, the job queues and the
//     tables (app/storage.bicep),
//   - Log Analytics + Application Insights (app/monitoring.bicep),
//   - the Key Vault with the provider keys, REDIS_URL, REDIS_BACKUP_URL and the ops key (app/keyvault.bicep),
//   - the Static Web App (Free) for web/ (app/web.bicep).
// Secrets come in as @secure() parameters (main.parameters.json maps them to azd environment values) and
// reach the app only as Key Vault references.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of the Function App, storage, Key Vault and monitoring (Flex Consumption is not offered in every region).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region of the Static Web App: the Free plan is offered in these regions only (pages are served from a global edge).')
@allowed([
  'centralus'
  'eastasia'
  'eastus2'
  'westeurope'
  'westus2'
])
param staticWebAppLocation string = 'westeurope'

@description('FC1: Flex Consumption (default). Y1: Linux Consumption: Python 3.12 at most, retires 2028-09-30, another free grant, and azd cannot deploy its package with shared keys off (see app/api.bicep).')
@allowed([
  'FC1'
  'Y1'
])
param hostingPlan string = 'FC1'

@description('Flex Consumption: memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

@description('Flex Consumption: the most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Python version of the Function App (Y1: 3.12 at most).')
@allowed([
  '3.10'
  '3.11'
  '3.12'
  '3.13'
])
param pythonVersion string = '3.11'

@description('REMOTE_JOBS: a fixed policy, the kinds of job sent to remote LLMs; empty: the governor decides per job.')
param remoteJobs string = ''

@description('REDIS_TIMEOUT_SECONDS: how long a Redis command may take before the backup is used.')
param redisTimeoutSeconds string = '1.0'

@description('Limits per client address (0 turns one off): writes a minute and the burst of the token bucket, interviews a day, custom-role interviews a day, and the share of the day\'s model calls.')
param rateLimitPerMinute string = '30'
param rateLimitBurst string = '10'
param dailyInterviewsPerClient string = '20'
param dailyCustomRolesPerClient string = '5'
param modelCallSharePerClient string = '0.05'

@description('RETENTION_DAYS: days an interview and its answers are kept after it starts; then the hourly sweep deletes it.')
param retentionDays string = '30'

@description('Object id of the person running azd (set by azd): gets Key Vault Secrets Officer, to rotate keys. Empty: none.')
param principalId string = ''

@description('Type of principalId (set by azd): User, or ServicePrincipal when azd runs as one.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Key Vault purge protection (cannot be turned off once on; a vault deleted by azd down keeps its name for 7 days).')
param keyVaultPurgeProtection bool = true

@secure()
@minLength(1)
@description('REDIS_URL: the primary Redis (cache, coordination, counters), e.g. rediss://default:<password>@<host>:6379.')
param redisUrl string

@secure()
@description('REDIS_BACKUP_URL: the Redis used while the primary is down; empty: none.')
param redisBackupUrl string = ''

@secure()
@description('OPS_KEY: the ops endpoints\' own key (never the master key), stored in Key Vault (secret ops-key) and read by the app through a Key Vault reference; the ops dashboard sends it in the X-Ops-Key header. Empty: the ops endpoints answer 503 (ops disabled).')
param opsKey string = ''

@secure()
@description('CALLBACK_SIGNING_KEY: each interview\'s callback secret is derived from it (Key Vault secret callback-signing-key). Empty: callbacks off (a callback_url is refused).')
param callbackSigningKey string = ''

@description('CALLBACK_ALLOWED_HOSTS: host suffixes a callback_url must match, comma-separated; empty: any public host.')
param callbackAllowedHosts string = ''

@secure()
param groqApiKey string = ''

@secure()
param groqApiKey2 string = ''

@secure()
param openrouterApiKey string = ''

@secure()
param mistralApiKey string = ''

@secure()
param geminiApiKey string = ''

@secure()
param geminiApiKey2 string = ''

@secure()
param geminiApiKey3 string = ''

@secure()
param cloudflareApiToken string = ''

@secure()
param cohereApiKey string = ''

@description('CLOUDFLARE_ACCOUNT_ID: an account id, not a secret; needed with CLOUDFLARE_API_TOKEN.')
param cloudflareAccountId string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'

// Key Vault secret name -> value. A secret with an empty value is not stored, and its app setting stays empty.
var secretValues = {
  'redis-url': redisUrl
  'redis-backup-url': redisBackupUrl
  'ops-key': opsKey
  'callback-signing-key': callbackSigningKey
  'groq-api-key': groqApiKey
  'groq-api-key-2': groqApiKey2
  'openrouter-api-key': openrouterApiKey
  'mistral-api-key': mistralApiKey
  'gemini-api-key': geminiApiKey
  'gemini-api-key-2': geminiApiKey2
  'gemini-api-key-3': geminiApiKey3
  'cloudflare-api-token': cloudflareApiToken
  'cohere-api-key': cohereApiKey
}

// Which secrets are stored (never their values), for the app settings' Key Vault references.
var storedSecrets = {
  'redis-url': !empty(redisUrl)
  'redis-backup-url': !empty(redisBackupUrl)
  'ops-key': !empty(opsKey)
  'callback-signing-key': !empty(callbackSigningKey)
  'groq-api-key': !empty(groqApiKey)
  'groq-api-key-2': !empty(groqApiKey2)
  'openrouter-api-key': !empty(openrouterApiKey)
  'mistral-api-key': !empty(mistralApiKey)
  'gemini-api-key': !empty(geminiApiKey)
  'gemini-api-key-2': !empty(geminiApiKey2)
  'gemini-api-key-3': !empty(geminiApiKey3)
  'cloudflare-api-token': !empty(cloudflareApiToken)
  'cohere-api-key': !empty(cohereApiKey)
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}${resourceToken}'
    location: location
    tags: tags
    secretValues: secretValues
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module web 'app/web.bicep' = {
  name: 'web'
  scope: rg
  params: {
    name: '${abbrs.webStaticSites}${resourceToken}'
    location: staticWebAppLocation
    tags: tags
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    hostingPlan: hostingPlan
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    pythonVersion: pythonVersion
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    interviewsTableName: storage.outputs.interviewsTableName
    usageTableName: storage.outputs.usageTableName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    storedSecrets: storedSecrets
    allowedOrigins: [
      web.outputs.url
    ]
    remoteJobs: remoteJobs
    redisTimeoutSeconds: redisTimeoutSeconds
    rateLimitPerMinute: rateLimitPerMinute
    rateLimitBurst: rateLimitBurst
    dailyInterviewsPerClient: dailyInterviewsPerClient
    dailyCustomRolesPerClient: dailyCustomRolesPerClient
    modelCallSharePerClient: modelCallSharePerClient
    retentionDays: retentionDays
    callbackAllowedHosts: callbackAllowedHosts
    cloudflareAccountId: cloudflareAccountId
  }
  // The identity's roles first, so that the first start can read storage and the Key Vault references.
  dependsOn: [
    rbac
  ]
}

// azd reads these (and hands them to hooks as environment variables).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_WEB_NAME string = web.outputs.name
output HOSTING_PLAN string = hostingPlan

@description('The candidate page.')
output WEB_URL string = '${web.outputs.url}/'

@description('The API base: what the pages\' <meta name="mock-interview-api"> gets.')
output API_URL string = api.outputs.apiUrl

@description('The ops dashboard (asks for the ops key).')
output OPS_URL string = '${web.outputs.url}/ops.html'
