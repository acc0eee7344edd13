// The user-assigned identity the Function App runs as: it reaches storage (AzureWebJobsStorage__*), the
// deployment container, Application Insights and the Key Vault references; app/rbac.bicep gives it its roles.

@description('Name of the user-assigned managed identity.')
param name string

param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
