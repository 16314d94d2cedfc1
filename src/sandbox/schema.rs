//! The sandbox's table definitions: columns, types, references and inheritance.

use std::sync::OnceLock;

use serde::Deserialize;

/// One column of a table, as the sandbox's dictionary describes it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct FieldDef {
    pub element: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_length: u32,
    /// The referenced table for reference fields.
    #[serde(default)]
    pub reference: Option<String>,
    /// The column of the referenced table the value holds (`sys_id` unless set).
    #[serde(default)]
    pub reference_key: Option<String>,
    /// The dictionary's choice flag: "" none, "1" with --None--, "3" without.
    #[serde(default)]
    pub choice: String,
    #[serde(default)]
    pub default: String,
    #[serde(default)]
    pub mandatory: bool,
    #[serde(default)]
    pub read_only: bool,
    /// The table that defines the column; filled in when the schema loads.
    #[serde(skip)]
    pub defined_on: String,
}

impl FieldDef {
    /// The table this field points at, when it is a reference.
    pub fn target(&self) -> Option<&str> {
        self.reference
            .as_deref()
            .filter(|_| self.kind == "reference")
    }

    /// The column of the target table that a reference value matches.
    pub fn key(&self) -> &str {
        self.reference_key.as_deref().unwrap_or("sys_id")
    }

    pub fn is_journal(&self) -> bool {
        self.kind == "journal_input"
    }

    pub fn has_choices(&self) -> bool {
        !self.choice.is_empty()
    }
}

/// One table: its own columns, its parent and its display column.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TableDef {
    pub name: String,
    pub label: String,
    pub display: String,
    #[serde(default)]
    pub super_class: Option<String>,
    #[serde(default)]
    pub extendable: bool,
    /// Tables such as the journal carry only the creation stamps, listed in `fields`.
    #[serde(default)]
    pub no_system_fields: bool,
    pub fields: Vec<FieldDef>,
}

/// A field type known to the instance, as `sys_glide_object` lists it.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GlideType(pub String, pub String, pub String, pub String);

#[derive(Deserialize)]
struct SchemaFile {
    system_fields: Vec<FieldDef>,
    tables: Vec<TableDef>,
    glide_types: Vec<GlideType>,
}

/// Every table the sandbox serves.
#[derive(Debug)]
pub(crate) struct Schema {
    pub tables: Vec<TableDef>,
    pub glide_types: Vec<GlideType>,
}

/// The schema compiled into the binary from `assets/sandbox/schema.json`.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let file: SchemaFile =
            serde_json::from_str(include_str!("../../assets/sandbox/schema.json"))
                .expect("the bundled sandbox schema is valid JSON");
        Schema::build(file)
    })
}

impl Schema {
    fn build(file: SchemaFile) -> Self {
        let mut tables = file.tables;
        for table in &mut tables {
            let is_root = table.super_class.is_none() && !table.no_system_fields;
            if is_root {
                let mut fields = file.system_fields.clone();
                fields.append(&mut table.fields);
                table.fields = fields;
            }
            for field in &mut table.fields {
                field.defined_on.clone_from(&table.name);
            }
        }
        Self {
            tables,
            glide_types: file.glide_types,
        }
    }

    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table and its ancestors, child first (`incident`, `task`).
    pub fn chain(&self, name: &str) -> Vec<&TableDef> {
        let mut chain = Vec::new();
        let mut next = self.table(name);
        while let Some(table) = next {
            chain.push(table);
            next = table
                .super_class
                .as_deref()
                .and_then(|parent| self.table(parent));
        }
        chain
    }

    /// All columns of a table, inherited ones first.
    pub fn fields(&self, name: &str) -> Vec<&FieldDef> {
        self.chain(name)
            .iter()
            .rev()
            .flat_map(|t| t.fields.iter())
            .collect()
    }

    /// One column of a table, looked up through inheritance.
    pub fn field(&self, table: &str, element: &str) -> Option<&FieldDef> {
        self.chain(table)
            .into_iter()
            .flat_map(|t| t.fields.iter())
            .find(|f| f.element == element)
    }

    /// The fields a dot-walked path crosses (`user.user_name`), or `None` when it is invalid.
    pub fn walk(&self, table: &str, path: &str) -> Option<Vec<&FieldDef>> {
        let mut steps: Vec<&FieldDef> = Vec::new();
        let mut current = table;
        for element in path.split('.') {
            if let Some(previous) = steps.last() {
                current = previous.target()?;
            }
            steps.push(self.field(current, element)?);
        }
        Some(steps)
    }

    /// Whether a path names a column of the table, directly or through references.
    pub fn is_path(&self, table: &str, path: &str) -> bool {
        self.walk(table, path).is_some()
    }

    /// The column a table shows as a reference's display value.
    pub fn display_field(&self, table: &str) -> &str {
        self.table(table).map_or("sys_id", |t| t.display.as_str())
    }
}
