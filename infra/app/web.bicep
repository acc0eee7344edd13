// The Static Web App (Free) that serves web/: the candidate page (index.html) and the ops dashboard
// (ops.html). The Free plan cannot link a Function App, so the pages call the Function App directly: the azd
// hook infra/hooks/write_api_base.py writes its address into the pages' <meta name="mock-interview-api">,
// and app/api.bicep allows this site's origin in the Function App's CORS.

param name string

@description('Static Web Apps Free exists in a few regions only; content is served from a global edge anyway.')
param location string

param tags object = {}

resource staticWebApp 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'web' })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    provider: 'Custom'
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output name string = staticWebApp.name
output defaultHostname string = staticWebApp.properties.defaultHostname
output url string = 'https://${staticWebApp.properties.defaultHostname}'
