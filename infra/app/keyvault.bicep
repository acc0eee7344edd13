// The Key Vault that holds the app's secrets: the LLM providers' keys, REDIS_URL, REDIS_BACKUP_URL and the
// ops key. The Function App reads them through @Microsoft.KeyVault(...) app-setting references, as its
// user-assigned identity (Key Vault Secrets User, app/rbac.bicep). Access is by Azure RBAC only.

param name string
param location string
param tags object = {}

@description('Secret name -> value. Empty values are not stored: the matching app setting is left empty, which the app reads as "not configured" (a provider without its key is skipped).')
@secure()
param secretValues object

@description('Purge protection: a deleted vault (azd down) stays recoverable for softDeleteRetentionInDays, and its name cannot be reused until then. It cannot be turned off once on.')
param enablePurgeProtection bool = true

@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: Key Vault references are resolved from the Function App's outbound addresses, which on Flex/Linux Consumption without a VNet are shared and not fixed, and App Service is not a 'trusted service' for the firewall bypass; access is RBAC-only (enableRbacAuthorization), to one identity and the deploying user
  // checkov:skip=CKV_AZURE_189: same reason as CKV_AZURE_109: without a VNet and a private endpoint the app can only reach the vault over its public endpoint
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for secret in items(secretValues): if (!empty(secret.value)) {
  // checkov:skip=CKV_AZURE_41: the values are third-party API keys, Redis URLs and the ops key, which expire only when their issuer revokes them; an 'exp' date would make the app's Key Vault references fail on that date and silently turn the providers off. Rotation: re-run azd provision (or az keyvault secret set) with the new value
  parent: vault
  name: secret.key
  properties: {
    value: secret.value
    contentType: 'text/plain'
    attributes: {
      enabled: true
    }
  }
}]

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
