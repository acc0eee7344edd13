// The Function App (the API, the queue worker and the timers) and its hosting plan.
//
// hostingPlan 'FC1' (default): Flex Consumption, Linux. Python 3.10-3.13; instance memory 512, 2048 or
// 4096 MB (512 here by default: the app is I/O-bound, and Flex bills GB-s of busy instances); the package is
// deployed by azd to a blob container, read with the user-assigned identity.
//
// hostingPlan 'Y1': Linux Consumption. Caveats, why it is not the default:
//   - Python 3.12 at most, and no new language versions: Linux Consumption retires on 2028-09-30.
//   - A different free grant: 1M executions + 400,000 GB-s a month (Flex: 250,000 executions +
//     100,000 GB-s, on-demand only), and other prices and limits (no instance-memory choice, no
//     always-ready instances, no VNet).
//   - `azd deploy` cannot deploy it here: Linux Consumption's zip deployment writes the package with the
//     storage account key, and this account has shared-key access off. The settings below make it run the
//     package from the deployment container with the managed identity instead
//     (WEBSITE_RUN_FROM_PACKAGE + WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID): build the package with
//     its dependencies (pip install --target .python_packages/lib/site-packages -r requirements.txt; zip),
//     upload it as linuxConsumptionPackageBlob with `az storage blob upload --auth-mode login`, then
//     restart the app.

param name string
param location string
param tags object = {}

@allowed([
  'FC1'
  'Y1'
])
param hostingPlan string = 'FC1'

param planName string

@description('Flex Consumption only: memory of each instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

@description('Flex Consumption only: the most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Python version (Y1: 3.12 at most).')
@allowed([
  '3.10'
  '3.11'
  '3.12'
  '3.13'
])
param pythonVersion string = '3.11'

@description('Resource id and client id of the user-assigned identity the app runs as.')
param identityId string
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param interviewsTableName string
param usageTableName string

param applicationInsightsName string

param keyVaultName string

@description('Key Vault secret name -> whether it is stored; a setting whose secret is not stored stays empty.')
param storedSecrets object

@description('Origins allowed to call the API from a browser: the Static Web App.')
param allowedOrigins array

@description('REMOTE_JOBS: a fixed policy, the kinds of job sent to remote LLMs (evaluate, questions, report, follow_up, example); empty: the governor decides per job within the day\'s budget.')
param remoteJobs string = ''

@description('REDIS_TIMEOUT_SECONDS: how long a Redis command may take before failing over to the backup.')
param redisTimeoutSeconds string = '1.0'

@description('Limits per client address (core/infra/client_limits.py; 0 turns one off): RATE_LIMIT_PER_MINUTE and RATE_LIMIT_BURST (the token bucket of writes), DAILY_INTERVIEWS_PER_CLIENT, DAILY_CUSTOM_ROLES_PER_CLIENT, MODEL_CALL_SHARE_PER_CLIENT.')
param rateLimitPerMinute string = '30'
param rateLimitBurst string = '10'
param dailyInterviewsPerClient string = '20'
param dailyCustomRolesPerClient string = '5'
param modelCallSharePerClient string = '0.05'

@description('RETENTION_DAYS: days an interview and its answers are kept after it starts (core/interview/retention.py); then its token stops working and the hourly sweep deletes it.')
param retentionDays string = '30'
@description('CALLBACK_ALLOWED_HOSTS: host suffixes a callback_url must match; empty: any public host.')
param callbackAllowedHosts string = ''

@description('CLOUDFLARE_ACCOUNT_ID: not a secret; empty leaves the Cloudflare provider off.')
param cloudflareAccountId string = ''

@description('Y1 only: the blob in the deployment container that WEBSITE_RUN_FROM_PACKAGE points at.')
param linuxConsumptionPackageBlob string = 'app.zip'

var isFlex = hostingPlan == 'FC1'
var kvPrefix = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName='

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: a consumption plan (FC1 or Y1) for a free-tier app; Y1 cannot be zone redundant and zone-redundant Flex is limited to some regions, while instances are placed and replaced by the platform on demand
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: 'Y1'
    tier: 'Dynamic'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the API is public by design: the candidate page (a Static Web App) calls it from browsers, with CORS limited to that origin
  // checkov:skip=CKV_AZURE_17: browsers call the API anonymously (interview tokens are bearer tokens checked by the app), so client certificates cannot be required
  // checkov:skip=CKV_AZURE_212: consumption plans scale to zero on purpose (no idle cost); a minimum instance count would need always-ready instances, billed around the clock
  // checkov:skip=CKV_AZURE_213: App Service health check is not available on consumption plans; the platform replaces failed instances, and failures show in Application Insights
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    } : null
    siteConfig: {
      linuxFxVersion: isFlex ? null : 'Python|${pythonVersion}'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: false
      }
    }
  }
}

// Every setting the code reads (core/settings.py, core/providers/catalogue.py, handlers/): the test
// tests/infra/test_bicep_settings.py reads the names in this block and fails when the code reads one that is
// missing. One setting a line, names spelled out.
var appSettings = {
  // The Functions host and core/infra/connections.py reach storage as the user-assigned identity.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // Telemetry as the identity (local auth is off on Application Insights); the worker configures the
  // Azure Monitor OpenTelemetry distro (host.json telemetryMode OpenTelemetry).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  // The app (core/settings.py).
  PUBLIC_API_BASE: 'https://${functionApp.properties.defaultHostName}/api'
  REMOTE_JOBS: remoteJobs
  GOVERNOR_MARGIN: '0.03' // the share of the day's free capacity never granted (core/providers/governor.py)
  QUEUE_MESSAGE_ENCODING: 'base64'
  INTERVIEWS_TABLE: interviewsTableName
  USAGE_TABLE: usageTableName
  REDIS_URL: storedSecrets['redis-url'] ? '${kvPrefix}redis-url)' : ''
  REDIS_BACKUP_URL: storedSecrets['redis-backup-url'] ? '${kvPrefix}redis-backup-url)' : ''
  REDIS_TIMEOUT_SECONDS: redisTimeoutSeconds
  // Tuning, at the code's defaults: change them here to tune the deployed app.
  REDIS_RETRY_PRIMARY_SECONDS: '5'
  CACHE_TTL_EVALUATE: '1209600'
  CACHE_TTL_QUESTIONS: '2592000'
  CACHE_TTL_FOLLOW_UP: '2592000'
  COALESCE_WAIT_SECONDS: '15'
  MAX_WAIT_SECONDS: '25'
  USAGE_FLUSH_SECONDS: '2'
  RETRY_AFTER_SECONDS: '1'
  // The ops endpoints' own key (X-Ops-Key header; handlers/ops.py): empty when not given, which turns ops off.
  OPS_KEY: storedSecrets['ops-key'] ? '${kvPrefix}ops-key)' : ''
  // Limits per client address (core/infra/client_limits.py), at the code's defaults unless azd sets them.
  RATE_LIMIT_PER_MINUTE: rateLimitPerMinute
  RATE_LIMIT_BURST: rateLimitBurst
  DAILY_INTERVIEWS_PER_CLIENT: dailyInterviewsPerClient
  DAILY_CUSTOM_ROLES_PER_CLIENT: dailyCustomRolesPerClient
  MODEL_CALL_SHARE_PER_CLIENT: modelCallSharePerClient
  // How long interviews are kept (core/interview/retention.py).
  RETENTION_DAYS: retentionDays
  // Callbacks (core/interview/callbacks.py): the signing key from Key Vault (empty: callbacks off), the
  // allow-list, and the code's retry and order waits. The exemption of local receivers is never set here:
  // it is for tests and development only, and core/settings.py refuses it on Azure.
  CALLBACK_SIGNING_KEY: storedSecrets['callback-signing-key'] ? '${kvPrefix}callback-signing-key)' : ''
  CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts
  CALLBACK_RETRY_SECONDS: '1,5,30,120,600'
  CALLBACK_ORDER_WAIT_SECONDS: '900'
  // The LLM providers of data/providers.json (enabled entries): keys from Key Vault, empty when not given.
  GROQ_API_KEY: storedSecrets['groq-api-key'] ? '${kvPrefix}groq-api-key)' : ''
  GROQ_API_KEY_2: storedSecrets['groq-api-key-2'] ? '${kvPrefix}groq-api-key-2)' : ''
  OPENROUTER_API_KEY: storedSecrets['openrouter-api-key'] ? '${kvPrefix}openrouter-api-key)' : ''
  MISTRAL_API_KEY: storedSecrets['mistral-api-key'] ? '${kvPrefix}mistral-api-key)' : ''
  GEMINI_API_KEY: storedSecrets['gemini-api-key'] ? '${kvPrefix}gemini-api-key)' : ''
  GEMINI_API_KEY_2: storedSecrets['gemini-api-key-2'] ? '${kvPrefix}gemini-api-key-2)' : ''
  GEMINI_API_KEY_3: storedSecrets['gemini-api-key-3'] ? '${kvPrefix}gemini-api-key-3)' : ''
  CLOUDFLARE_API_TOKEN: storedSecrets['cloudflare-api-token'] ? '${kvPrefix}cloudflare-api-token)' : ''
  CLOUDFLARE_ACCOUNT_ID: cloudflareAccountId
  COHERE_API_KEY: storedSecrets['cohere-api-key'] ? '${kvPrefix}cohere-api-key)' : ''
}

// Linux Consumption (Y1) only: Flex Consumption takes the runtime from functionAppConfig and rejects these.
var linuxConsumptionSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  WEBSITE_RUN_FROM_PACKAGE: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}/${linuxConsumptionPackageBlob}'
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13: false positive: this is the 'appsettings' config, not the 'web' site config checkov takes every sites/config for; the API must stay anonymous (App Service Authentication would block the candidate page), and the ops routes check their own key (OPS_KEY, a Key Vault reference) in the X-Ops-Key header
  // checkov:skip=CKV_AZURE_63: false positive ('appsettings' config); App Service HTTP logs do not exist on consumption plans: requests are logged to Application Insights
  // checkov:skip=CKV_AZURE_65: false positive ('appsettings' config); detailed error pages are an IIS/App Service feature not available to Functions on consumption plans
  // checkov:skip=CKV_AZURE_66: false positive ('appsettings' config); failed request tracing is not available on consumption plans; failures are traced in Application Insights
  // checkov:skip=CKV_AZURE_80: false positive ('appsettings' config): the app is Python, no .NET Framework is used
  // checkov:skip=CKV_AZURE_88: false positive ('appsettings' config): the app keeps no files; Flex Consumption has no Azure Files content share, and Linux needs none
  // checkov:skip=CKV_AZURE_222: false positive ('appsettings' config); the API is public by design (see the site's skip)
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, isFlex ? {} : linuxConsumptionSettings)
}

// No FTP and no basic-auth deployments: azd deploys with Microsoft Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output apiUrl string = 'https://${functionApp.properties.defaultHostName}/api'
