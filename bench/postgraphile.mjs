// The peer: PostGraphile 5 (Amber preset) serving the same database on
// its own port, as its documentation sets it up in library mode. Every
// column may be filtered and ordered on (its default hides those of
// unindexed columns), so the storefront query can be written for it.
//
//   DATABASE_URL=... PORT=15678 node postgraphile.mjs
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.POOL_SIZE || 10) },
    }),
  ],
  grafserv: { graphqlPath: "/graphql", watch: false, graphiql: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).then(() => {
  server.listen(Number(process.env.PORT || 15678), "127.0.0.1", () => console.error("postgraphile ready"));
});
process.on("SIGTERM", () => {
  server.close();
  pgl.release().then(() => process.exit(0));
});
