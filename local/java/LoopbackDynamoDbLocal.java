import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts the real DynamoDB Local (the AWS jar, unchanged) listening on one address only.
 *
 * DynamoDBLocal.jar has no option for the address it listens on (`-help` lists -port, -inMemory,
 * -dbPath, -sharedDb, -cors, -delayTransientStatuses, -disableTelemetry, -optimizeDbBeforeStartup,
 * -version): its server is a Jetty `Server(port)`, whose one connector listens on every interface.
 * This launcher builds the server the way the jar's own main does
 * (`ServerRunner.createServerFromCommandLineArgs`, the same arguments), sets the host of that
 * connector (Jetty's public `ServerConnector.setHost`) before it starts, and starts it.
 * The Jetty server is a private field of `DynamoDBProxyServer`: it is found by its type, and the
 * launcher exits with status 3 and says so when it is not there (another jar version), rather than
 * listen on every interface.
 *
 * Run in Java's source-file mode (JDK 11+, no build step), with the jar and its libraries on the
 * class path: `java -Djava.library.path=<lib> -cp <jar>:<lib>/* LoopbackDynamoDbLocal.java <host> <jar arguments>`.
 * Used by `local/dynamodb-local.ts`.
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: LoopbackDynamoDbLocal <host> [DynamoDBLocal.jar arguments]");
      System.exit(2);
    }
    String host = args[0];
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(Arrays.copyOfRange(args, 1, args.length));
    Server jetty = null;
    for (Field field : DynamoDBProxyServer.class.getDeclaredFields()) {
      if (Server.class.isAssignableFrom(field.getType())) {
        field.setAccessible(true);
        jetty = (Server) field.get(proxy);
      }
    }
    int connectors = 0;
    if (jetty != null) {
      for (Connector connector : jetty.getConnectors()) {
        if (connector instanceof ServerConnector) {
          ((ServerConnector) connector).setHost(host);
          connectors++;
        }
      }
    }
    if (connectors == 0) {
      System.err.println("LoopbackDynamoDbLocal: no Jetty connector found in DynamoDBProxyServer; this DynamoDB Local version is not supported");
      System.exit(3);
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on " + host);
  }
}
