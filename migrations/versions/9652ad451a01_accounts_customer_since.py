"""accounts: customer_since

The day each account became a customer, from the contacts CSV's optional customer_since
column; retention counts an account from it. Accounts stored before keep NULL and count
from their created_at until a file gives the date.

Revision ID: 9652ad451a01
Revises: 52e7169e43b4
Create Date: 2026-12-01 09:14:55.717359

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9652ad451a01'
down_revision = '52e7169e43b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_since', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('customer_since')
