// STAND-IN: the generated model class of polaris-api-management-model 1.7.0, which Maven Central does not
// serve. polaris-core's FeatureConfiguration reads the names of this enum (the storage types of
// spec/polaris-management-service.yml) while it initializes; nothing else of the model is needed.
package org.apache.polaris.core.admin.model;

public class StorageConfigInfo {
  public enum StorageTypeEnum {
    S3,
    GCS,
    AZURE,
    FILE
  }
}
