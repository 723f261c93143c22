// The GraphiQL page served by the binary at /graphiql. Everything it needs
// is in this bundle: the page loads nothing from another origin.
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './page.css';

const endpoint = new URL('/graphql', window.location.href);
const socket = new URL(endpoint);
socket.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

// Queries and mutations go as JSON POSTs (the only kind the API accepts);
// subscriptions over graphql-ws, whose connection_init carries the
// headers typed in the Headers tab ({"Authorization": "Bearer …"}).
const fetcher = createGraphiQLFetcher({
  url: endpoint.href,
  subscriptionUrl: socket.href,
  enableIncrementalDelivery: false,
});

const defaultQuery = `# Config Market API explorer.
# Log in with the logIn mutation, then put the access token in the
# Headers tab: {"Authorization": "Bearer <accessToken>"}.
# Money is { amount currencyCode }; lists are Relay connections.

{
  tariffPlans {
    code
    name
  }
  categories {
    name
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true }),
);
