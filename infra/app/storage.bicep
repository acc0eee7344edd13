// The app's storage account: the Functions host (AzureWebJobsStorage__*), the job queue and its poison
// queue, the durable tables, and the Flex Consumption deployment container. Shared-key access is OFF: every
// caller (the host, core/infra/connections.py, azd's deployment) authenticates with Microsoft Entra ID.

param name string
param location string
param tags object = {}

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('The job queue (core/infra/job_queue.py JOBS_QUEUE) and its poison queue (host.json maxDequeueCount).')
param jobsQueueName string = 'interview-jobs'
param poisonQueueName string = 'interview-jobs-poison'

@description('The callbacks queue (core/infra/callback_queue.py CALLBACKS_QUEUE), its poison queue, and the events given up after every retry, which ops lists and replays.')
param callbacksQueueName string = 'interview-callbacks'
param callbacksPoisonQueueName string = 'interview-callbacks-poison'
param callbacksFailedQueueName string = 'interview-callbacks-failed'

@description('The durable tables (INTERVIEWS_TABLE, USAGE_TABLE).')
param interviewsTableName string = 'interviews'
param usageTableName string = 'usage'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: the Function App has no VNet integration (Flex without a VNet, or Y1, which has none), so it reaches storage over the public endpoint and the firewall default stays Allow; every caller must still present a Microsoft Entra token, since shared-key access is off
  // checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35: public network access is needed without a VNet; keys and SAS cannot be used on this account (allowSharedKeyAccess false)
  // checkov:skip=CKV_AZURE_206: LRS on purpose: the queues hold seconds-long jobs and the tables re-creatable interview records of a free-tier app; GRS/ZRS would double the storage bill
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    isLocalUserEnabled: false
    isSftpEnabled: false
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled'
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource jobsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: jobsQueueName
}

resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: poisonQueueName
}

resource callbacksQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: callbacksQueueName
}

resource callbacksPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: callbacksPoisonQueueName
}

resource callbacksFailedQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: callbacksFailedQueueName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource interviewsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: interviewsTableName
}

resource usageTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: usageTableName
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainer.name
output jobsQueueName string = jobsQueue.name
output poisonQueueName string = poisonQueue.name
output interviewsTableName string = interviewsTable.name
output usageTableName string = usageTable.name
