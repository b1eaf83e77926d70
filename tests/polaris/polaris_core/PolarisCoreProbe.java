// Asks polaris-core 1.7.0's own classes what the fake Polaris transcribed (tests/polaris/polaris_rules.py).
//
// Compiled and run by tests/polaris/polaris_core.py against the polaris-core jar from Maven Central. In the
// package of RbacOperationSemantics, whose lookup is package-private. Reads requests from stdin and answers
// each with one tab-separated line:
//   privileges                       -> "super <PRIVILEGE> <conferring,...>" for every privilege
//   operations                       -> "op <OPERATION> <target privileges,...> <secondary privileges,...>"
//   setting <CLASS> <FIELD>          -> "setting <FIELD> <key> <default> <catalog key or -> <legacy key or ->"
//   resolve <CLASS> <FIELD> <k> <v>  -> "resolve <FIELD> <k> <v> <value>" (<k>=<v> a catalog property, - for none)
//   location <a> <b>                 -> "location <a> <b> <a equals b> <a is a child of b>"
//   secrets                          -> "secrets <old after 1 rotation> <old after 2> <previous after 2> <same id>"
package org.apache.polaris.core.auth;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.polaris.core.config.PolarisConfiguration;
import org.apache.polaris.core.entity.PolarisPrincipalSecrets;
import org.apache.polaris.core.entity.PolarisPrivilege;
import org.apache.polaris.core.storage.StorageLocation;

public class PolarisCoreProbe {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.split("\t", -1);
      switch (f[0]) {
        case "privileges" -> {
          for (PolarisPrivilege p : PolarisPrivilege.values()) {
            System.out.println("super\t" + p + "\t" + names(PolarisAuthorizerImpl.subsumingPrivilegesOf(p)));
          }
        }
        case "operations" -> {
          for (PolarisAuthorizableOperation op : PolarisAuthorizableOperation.values()) {
            RbacOperationSemantics s = RbacOperationSemantics.forOperation(op);
            System.out.println("op\t" + op + "\t" + names(s.targetPrivileges()) + "\t"
                + names(s.secondaryPrivileges()));
          }
        }
        case "setting" -> {
          PolarisConfiguration<?> c = setting(f[1], f[2]);
          System.out.println("setting\t" + f[2] + "\t" + c.key() + "\t" + c.defaultValue() + "\t"
              + (c.hasCatalogConfig() ? c.catalogConfig() : "-") + "\t"
              + (c.hasCatalogConfigUnsafe() ? c.catalogConfigUnsafe() : "-"));
        }
        case "resolve" -> {
          PolarisConfiguration<?> c = setting(f[1], f[2]);
          Map<String, String> catalog = f[3].equals("-") ? Map.of() : Map.of(f[3], f[4]);
          Object value = c.resolveValue(key -> null, catalog::get);
          System.out.println("resolve\t" + f[2] + "\t" + f[3] + "\t" + f[4] + "\t" + value);
        }
        case "location" -> {
          StorageLocation a = StorageLocation.of(f[1]);
          StorageLocation b = StorageLocation.of(f[2]);
          System.out.println("location\t" + f[1] + "\t" + f[2] + "\t" + a.equals(b) + "\t" + a.isChildOf(b));
        }
        case "secrets" -> {
          PolarisPrincipalSecrets s = new PolarisPrincipalSecrets(1L, "client", "first-secret", null);
          String first = s.getMainSecret();
          s.rotateSecrets(s.getMainSecretHash());
          boolean afterOne = s.matchesSecret(first);
          String second = s.getMainSecret();
          s.rotateSecrets(s.getMainSecretHash());
          System.out.println("secrets\t" + afterOne + "\t" + s.matchesSecret(first) + "\t"
              + s.matchesSecret(second) + "\t" + s.getPrincipalClientId().equals("client"));
        }
        default -> throw new IllegalArgumentException("unknown request: " + line);
      }
    }
  }

  private static PolarisConfiguration<?> setting(String className, String field) throws Exception {
    return (PolarisConfiguration<?>)
        Class.forName("org.apache.polaris.core.config." + className).getField(field).get(null);
  }

  private static String names(Set<?> values) {
    Set<String> sorted = new TreeSet<>();
    if (values != null) {
      values.forEach(v -> sorted.add(String.valueOf(v)));
    }
    return String.join(",", sorted);
  }
}
