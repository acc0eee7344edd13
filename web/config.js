// Where the page finds the API.
//
// By default the API is on the same origin under /api: that is how the local host (`make run`) serves
// this folder, and how a Static Web App with a linked Function App routes it.
//
// The Static Web Apps Free plan cannot link a Function App, so there the page must call the Function
// App directly. Tell it where, without editing this file, in either of two ways:
//   1. a meta tag in index.html and ops.html (works with the Content-Security-Policy as shipped):
//        <meta name="mock-interview-api" content="https://my-app.azurewebsites.net/api">
//   2. a global set by a script loaded before the page's modules (a separate file, not an inline
//      script, which the Content-Security-Policy blocks):
//        window.MOCK_INTERVIEW_API = "https://my-app.azurewebsites.net/api";
// The Function App must then allow this site's origin (Function App > API > CORS).
const DEFAULT_API_BASE = "/api";

function configuredApiBase() {
  const fromGlobal = globalThis.MOCK_INTERVIEW_API;
  const fromMeta = document.querySelector('meta[name="mock-interview-api"]')?.content;
  return (fromGlobal || fromMeta || DEFAULT_API_BASE).trim();
}

export const API_BASE = configuredApiBase();
