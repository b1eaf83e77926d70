/*
 * Apache Iceberg's REST catalog test server, on loopback only, for floe-infra's end-to-end tests.
 *
 * Iceberg's own pieces do the catalog work: RESTCatalogServlet (HTTP) -> RESTCatalogAdapter (REST
 * routes) -> CatalogHandlers -> a JdbcCatalog. This file only wires them the way the tests need, where
 * iceberg-open-api's RESTCatalogServer does not fit: it listens on 127.0.0.1 (not every interface), on
 * a port the OS picks (printed as `port=N` once listening), serves several catalogs as
 * `/{catalog}/v1/...` (a Polaris-style prefix, one JdbcCatalog each, all in `<root>/catalogs.db`), and
 * keeps table files under `<root>/warehouse/<catalog>/` through a FileIO that needs no Hadoop.
 *
 * Usage: java -cp <classpath> LoopbackRestCatalog <root>
 */

import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackRestCatalog {
  // A catalog name becomes a directory name: no separators, no dot-only names.
  private static final Pattern CATALOG_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  private LoopbackRestCatalog() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: LoopbackRestCatalog <root>");
      System.exit(2);
    }
    Path root = Path.of(args[0]).toAbsolutePath();
    Files.createDirectories(root.resolve("warehouse"));

    Server server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    // Multi-level namespaces arrive joined by %1F (the REST spec's separator, Polaris' too), which
    // Jetty's default URI compliance refuses as a suspicious path character.
    http.setUriCompliance(
        UriCompliance.DEFAULT.with("iceberg-namespaces", UriCompliance.Violation.SUSPICIOUS_PATH_CHARACTERS));
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(new Catalogs(root)), "/*");
    server.setHandler(context);
    server.setStopAtShutdown(true);
    server.start();
    System.out.println("port=" + connector.getLocalPort());
    System.out.flush();
    server.join();
  }

  /** Routes `/{catalog}/v1/...` to that catalog's RESTCatalogServlet, opening the catalog on first use. */
  static final class Catalogs extends HttpServlet {
    private final Path root;
    private final Map<String, Servlet> catalogs = new ConcurrentHashMap<>();

    Catalogs(Path root) {
      this.root = root;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws ServletException, IOException {
      String uri = request.getRequestURI();
      int slash = uri.indexOf('/', 1);
      String name = slash < 0 ? "" : URLDecoder.decode(uri.substring(1, slash), StandardCharsets.UTF_8);
      if (!CATALOG_NAME.matcher(name).matches()) {
        response.sendError(HttpServletResponse.SC_NOT_FOUND, "expected /{catalog}/v1/...");
        return;
      }
      // RESTCatalogServlet routes on the request URI: hide the catalog prefix from it.
      String path = uri.substring(slash);
      HttpServletRequest unprefixed =
          new HttpServletRequestWrapper(request) {
            @Override
            public String getRequestURI() {
              return path;
            }
          };
      catalogs.computeIfAbsent(name, this::open).service(unprefixed, response);
    }

    private Servlet open(String name) {
      JdbcCatalog catalog = new JdbcCatalog(properties -> new LocalFileIO(), null, true);
      catalog.initialize(
          name,
          Map.of(
              CatalogProperties.URI, "jdbc:sqlite:" + root.resolve("catalogs.db"),
              CatalogProperties.WAREHOUSE_LOCATION, root.resolve("warehouse").resolve(name).toString(),
              // V1 tables also hold views.
              "jdbc.schema-version", "V1"));
      return new RESTCatalogServlet(new RESTCatalogAdapter(catalog));
    }
  }

  /** Table files on the local file system (plain paths or file: URIs), without Hadoop. */
  static final class LocalFileIO implements FileIO {
    @Override
    public InputFile newInputFile(String location) {
      return org.apache.iceberg.Files.localInput(local(location));
    }

    @Override
    public OutputFile newOutputFile(String location) {
      return org.apache.iceberg.Files.localOutput(local(location));
    }

    @Override
    public void deleteFile(String location) {
      try {
        Files.deleteIfExists(local(location).toPath());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static File local(String location) {
      return location.startsWith("file:") ? new File(URI.create(location)) : new File(location);
    }
  }
}
