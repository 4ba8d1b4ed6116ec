-- Run once by the postgres container on an empty volume: the PetStore API
-- gets its own database, separate from the authorization server's.
CREATE DATABASE petstore_api OWNER petstore;
