/**
 * OpenAPI 3 description of the administration API (`GET /zosConnect/api-docs`). IBM serves a Swagger
 * 2.0 document titled "z/OS Connect administration API" (spec §2.2); this emulator describes the
 * same resources in OpenAPI 3, like the rest of its documents.
 */
const errorResponse = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const nameParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const statusParam = { name: 'status', in: 'query', schema: { type: 'string', enum: ['started', 'stopped'] } };

/** The admin API document (servers are filled in per request). */
export const ADMIN_API_DOC: Readonly<Record<string, unknown>> = Object.freeze({
  openapi: '3.0.3',
  info: { title: 'z/OS Connect administration API', version: '1.2.0', description: 'imsplex z/OS Connect emulator: services, APIs and server operations. HTTP basic authentication; roles Admin, Operations, Invoke, Reader.' },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
    schemas: {
      Error: {
        type: 'object',
        properties: { errorMessage: { type: 'string' }, errorDetails: { type: 'object', properties: { code: { type: 'string' } }, additionalProperties: true } },
        required: ['errorMessage', 'errorDetails'],
      },
    },
  },
  security: [{ basic: [] }],
  paths: {
    '/zosConnect/services': { get: { summary: 'List services (Reader)', responses: { '200': { description: 'zosConnectServices' }, default: errorResponse } } },
    '/zosConnect/services/{service}': {
      parameters: [nameParam('service')],
      get: { summary: 'Service details; ?action=status|getRequestSchema|getResponseSchema|getStatistics (Reader)', responses: { '200': { description: 'Service' }, default: errorResponse } },
      put: { summary: 'Start or stop (?status=started|stopped, Operations), or invoke (?action=invoke, Invoke)', parameters: [statusParam], responses: { '200': { description: 'Service' }, default: errorResponse } },
      post: { summary: 'Invoke (?action=invoke, Invoke)', responses: { '200': { description: 'Service response' }, default: errorResponse } },
      delete: { summary: 'Remove a stopped service from the running server (Operations)', responses: { '200': { description: 'Deleted' }, default: errorResponse } },
    },
    '/zosConnect/services/{service}/schema/request': { parameters: [nameParam('service')], get: { summary: 'Request JSON schema (Reader)', responses: { '200': { description: 'Schema' }, default: errorResponse } } },
    '/zosConnect/services/{service}/schema/response': { parameters: [nameParam('service')], get: { summary: 'Response JSON schema (Reader)', responses: { '200': { description: 'Schema' }, default: errorResponse } } },
    '/zosConnect/apis': { get: { summary: 'List APIs (Reader)', responses: { '200': { description: 'apis' }, default: errorResponse } } },
    '/zosConnect/apis/{api}': {
      parameters: [nameParam('api')],
      get: { summary: 'API details (Reader)', responses: { '200': { description: 'API' }, default: errorResponse } },
      put: { summary: 'Start or stop (?status=started|stopped, Operations)', parameters: [statusParam], responses: { '200': { description: 'API' }, default: errorResponse } },
      delete: { summary: 'Remove a stopped API from the running server (Operations)', responses: { '200': { description: 'Deleted' }, default: errorResponse } },
    },
    '/zosConnect/operations': { get: { summary: 'Server state, health and IMS connection pools (Reader)', responses: { '200': { description: 'State' }, default: errorResponse } } },
    '/zosConnect/operations/pause': { post: { summary: 'Stop accepting new requests (MODIFY PAUSE; Operations)', responses: { '200': { description: 'State' }, default: errorResponse } } },
    '/zosConnect/operations/resume': { post: { summary: 'Accept requests again (MODIFY RESUME; Operations)', responses: { '200': { description: 'State' }, default: errorResponse } } },
    '/zosConnect/operations/refresh': { post: { summary: 'Re-read the configuration directory (MODIFY REFRESH; Operations)', responses: { '200': { description: 'State' }, default: errorResponse } } },
  },
});
